-- Orthanc stable-study trigger: when no new instance has arrived for StableAge seconds, tell the
-- knee tumor service that the study is complete. The service enqueues one idempotent job per
-- study, so a study that becomes stable again (new images) is safe to announce again.
--
-- Settings come from a table KNEE_TUMOR_TRIGGER = { url = ..., token = ... } defined by a Lua
-- script listed before this one in Orthanc's "LuaScripts", or from the environment variables
-- KNEE_TUMOR_TRIGGER_URL and KNEE_TUMOR_ORTHANC_TOKEN of the Orthanc process.

local function setting(key, variable)
  if KNEE_TUMOR_TRIGGER ~= nil and KNEE_TUMOR_TRIGGER[key] ~= nil then
    return KNEE_TUMOR_TRIGGER[key]
  end
  return os.getenv(variable)
end

function OnStableStudy(studyId, tags, metadata)
  local url = setting('url', 'KNEE_TUMOR_TRIGGER_URL')
  local token = setting('token', 'KNEE_TUMOR_ORTHANC_TOKEN')
  local uid = tags['StudyInstanceUID']
  if url == nil or token == nil or uid == nil then
    print('knee-tumor trigger: url, token or StudyInstanceUID missing; study ' .. studyId .. ' not announced')
    return
  end
  local headers = { ['Authorization'] = 'Bearer ' .. token, ['Content-Type'] = 'application/json' }
  local ok, answer = pcall(HttpPost, url, DumpJson({ studyInstanceUid = uid }, true), headers)
  -- Only the Orthanc id is printed: it is not patient data, unlike names or PatientID.
  if not ok or answer == nil then
    print('knee-tumor trigger: the service did not accept study ' .. studyId)
  end
end
