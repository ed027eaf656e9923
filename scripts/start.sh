#!/usr/bin/env bash
# The main job on embedded defaults: the demo EHR (FHIR engine, OAuth2 server, Orthanc with
# phantom knee studies, the CDS service and the SMART app on one port). Installs Orthanc from
# Debian when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-packages.sh demo
exec node dist/server/src/demo/main.js "$@"
