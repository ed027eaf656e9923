#!/usr/bin/env bash
# Trains the method's five-fold ensemble on a site's own radiographs and validates it: import,
# a held-out calibration split, training, ONNX export, out-of-domain statistics and operating
# threshold, and an evaluation report on the held-out patients.
#
#   bash models/training/retrain-site.sh --out models/site-model --dicom /data/knee-studies --csv /data/boxes.csv
#   bash models/training/retrain-site.sh --out models/site-model --dicom /data/knee-studies --labelme /data/labelme
#   bash models/training/retrain-site.sh --out models/site-model --images /data/BTXRD/images \
#       --labelme /data/BTXRD/Annotations --metadata /data/BTXRD/dataset.xlsx --patient-rule '<regex>'
#
# Every option but --out goes to `knee-tumor training-set` (see its --help: DICOM studies with boxes
# as CSV or LabelMe, or JPEG/PNG radiographs with LabelMe boxes and a CSV/XLSX metadata table).
# Steps, each writing under <out>/.training:
#   1 import        knee-tumor training-set -> imported/ (images/*.png, labels.json, reference.json)
#   2 split         CALIBRATION (default 0.2) of the patients, tumor and normal dealt separately
#                   (seed SEED), are held out: no fold trains on them
#   3 train         train.py, five folds by patient on the rest -> run/ (out-of-fold results)
#   4 export        export.py -> <out>/fold*.onnx + manifest.json (threshold: Youden's J out of fold)
#   5 domain        the ensemble's pooled features on the training images, the calibration images
#                   and REAL_RADIOGRAPHS (a folder of DICOM radiographs that are not knees; default
#                   the shared RG*.dcm: chest, hip, lower leg)
#                   -> measure_domain.py: out-of-domain statistics beside the manifest, and the
#                   operating threshold recalibrated on the calibration patients' TTA ensemble scores
#   6 evaluate      the finished ensemble on the calibration patients -> evaluation/ (report.html,
#                   evaluation.json: AUC, sensitivity, specificity, lesion localisation, subgroups)
# Settings from the environment: IMG (default 1280, the method's; 640 on a CPU), SIZE (s), EPOCHS
# (100), PATIENCE (20), BATCH (16), NAME, VERSION, CALIBRATION, SEED (0), REAL_RADIOGRAPHS, and
# DOMAIN_LAYER (the pooled feature map, default domain.py's DEFAULT_DOMAIN_LAYER). On a GPU
# machine, PYTHON may point at its PyTorch.
set -euo pipefail
usage() { sed -n '6,9p' "$0" >&2; exit 2; }

out="" source=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) [ $# -ge 2 ] || usage; out=$2; shift 2 ;;
    -h|--help) usage ;;
    *) source+=("$1"); shift ;;
  esac
done
[ -n "$out" ] && [ ${#source[@]} -gt 0 ] || usage

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$out/.training"
PYTHON=${PYTHON:-/usr/bin/python3}
CLI=(node "$root/bin/knee-tumor.js")
step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
mkdir -p "$work"

step "1 import"
"${CLI[@]}" training-set "${source[@]}" --out "$work/imported"

step "2 split: ${CALIBRATION:-0.2} of the patients held out for calibration and evaluation"
# Each part gets labels.json (train.py) and reference.json listing all its images by patient (the
# set domain-features.js reads); the held-out part also gets truth.json, its patients with one
# frontal and one lateral view (with the import's subgroup attributes), for knee-tumor evaluate.
"$PYTHON" - "$work" "${CALIBRATION:-0.2}" "${SEED:-0}" <<'PY'
import json, random, sys
from pathlib import Path
work, fraction, seed = Path(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
labels = json.loads((work / "imported/labels.json").read_text())
tumor = {}
for image in labels["images"]:
    tumor[image["patientId"]] = tumor.get(image["patientId"], False) or len(image["boxes"]) > 0
rng = random.Random(seed)
held = set()
for kind in (True, False):
    patients = sorted(p for p, t in tumor.items() if t == kind)
    rng.shuffle(patients)
    held.update(patients[: round(len(patients) * fraction)])
if not held or len(held) == len(tumor):
    sys.exit(f"{len(tumor)} patients cannot be split into training and a calibration fraction of {fraction}")

def reference(patients):
    return {"kind": "knee-tumor-reference", "schemaVersion": 1, "patients": patients}

for name, keep in (("train-set", lambda p: p not in held), ("calibration-set", lambda p: p in held)):
    folder = work / name
    folder.mkdir(exist_ok=True)
    images = [{**i, "file": f"../imported/{i['file']}"} for i in labels["images"] if keep(i["patientId"])]
    (folder / "labels.json").write_text(json.dumps({**labels, "images": images}) + "\n")
    by_patient = {}
    for i in images:
        by_patient.setdefault(i["patientId"], []).append({k: i[k] for k in ("imageId", "view", "width", "height", "boxes", "file")})
    (folder / "reference.json").write_text(json.dumps(reference(
        [{"patientId": p, "tumor": tumor[p], "images": views} for p, views in by_patient.items()])) + "\n")

imported = work / "imported/reference.json"
if imported.exists():
    pairs = [p for p in json.loads(imported.read_text())["patients"] if p["patientId"] in held]
    for patient in pairs:
        for image in patient["images"]:
            image["file"] = f"../imported/{image['file']}"
else:
    calibration = json.loads((work / "calibration-set/reference.json").read_text())["patients"]
    pairs = [p for p in calibration if sorted(i["view"] for i in p["images"]) == ["AP", "LATERAL"]]
(work / "calibration-set/truth.json").write_text(json.dumps(reference(pairs), indent=1) + "\n")
print(f"{len(tumor) - len(held)} patients to train on, {len(held)} held out ({len(pairs)} with a frontal and a lateral view)")
PY

step "3 train"
"$PYTHON" "$root/models/training/train.py" --data "$work/train-set" --out "$work/run" --img "${IMG:-1280}" \
  --size "${SIZE:-s}" --epochs "${EPOCHS:-100}" --patience "${PATIENCE:-20}" --folds 5 --batch "${BATCH:-16}" --seed "${SEED:-0}"

step "4 export"
layer=${DOMAIN_LAYER:-$("$PYTHON" -c 'import sys; sys.path.insert(0, sys.argv[1]); from domain import DEFAULT_DOMAIN_LAYER; print(DEFAULT_DOMAIN_LAYER)' "$root/models/training")}
"$PYTHON" "$root/models/training/export.py" --weights "$work/run" --out "$out" --name "${NAME:-knee-tumor-site}" \
  --version "${VERSION:-0.1.0}" --training-data clinical --domain-layer "$layer"

# The tools below load the built TypeScript (dist/).
[ -d "$root/dist/server/src" ] || (cd "$root" && npm run build --silent)

step "5 out-of-domain statistics ($layer) and operating threshold (measure_domain.py)"
# Copies of the folds with every candidate layer as an output ("features.<layer>"), as
# domain-calibrate.sh measures them; the model keeps export.py's one "features" output of $layer.
rm -rf "$work/candidates"
"$PYTHON" "$root/models/training/add_domain_output.py" --folds "$out" --out "$work/candidates" --all-candidates
features=(node "$root/models/training/domain-features.js" --manifest "$out/manifest.json" --features-folds "$work/candidates")
"${features[@]}" --set "$work/train-set" --out "$work/features-train.jsonl"
"${features[@]}" --scores --set "$work/calibration-set" --out "$work/features-calibration.jsonl"
if [ -n "${REAL_RADIOGRAPHS:-}" ]; then
  mapfile -t real_files < <(find "$REAL_RADIOGRAPHS" -maxdepth 1 -name '*.dcm' | sort)
else # the shared real radiographs (chest, hip, lower leg); the CT beside them is refused as not a radiograph
  mapfile -t real_files < <(find "$root/../shared/data/dicom" -maxdepth 1 -name 'RG*.dcm' | sort)
fi
[ ${#real_files[@]} -gt 0 ] || { echo "no DICOM radiographs that are not knees (REAL_RADIOGRAPHS): the out-of-domain threshold is checked on them" >&2; exit 1; }
"${features[@]}" --out "$work/features-real.jsonl" "${real_files[@]}"
# The calibration patients set both thresholds and are reported as the held-out set too: a site
# with a separate test set evaluates it as in step 6.
"$PYTHON" "$root/models/training/measure_domain.py" --train "$work/features-train.jsonl" \
  --calibration "$work/features-calibration.jsonl" --heldout "$work/features-calibration.jsonl" \
  --real "$work/features-real.jsonl" --report "$work/domain-report.json" \
  --layer "$layer" --manifest "$out/manifest.json"

step "6 evaluate the ensemble on the held-out calibration patients"
truth="$work/calibration-set/truth.json"
if "$PYTHON" -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["patients"] else 1)' "$truth"; then
  node "$root/models/training/predict-set.js" --manifest "$out/manifest.json" --reference "$truth" --out "$work/calibration-predictions.json"
  "${CLI[@]}" evaluate --truth "$truth" --pred "$work/calibration-predictions.json" --out "$work/evaluation"
  echo "model: $out/manifest.json; evaluation: $work/evaluation/report.html; training log and out-of-fold results: $work/run"
else
  echo "no held-out patient has both a frontal and a lateral view: the patient-level evaluation needs pairs (see imported/import-summary.json)" >&2
  echo "model: $out/manifest.json; domain and operating point: $work/domain-report.json; training log and out-of-fold results: $work/run"
fi
