#!/usr/bin/env bash
# Out-of-domain detection and the operating point of an exported ensemble, from measurements:
#  1. phantoms: training-domain images (the training seed), a fresh calibration set no fold trained
#     on, and the held-out set of the model card (reported, never tuned to);
#  2. every candidate feature layer, pooled, as extra outputs (graph surgery on a copy);
#  3. features of all three sets and of the shared real radiographs (chest, hip, lower leg), and
#     the ensemble's TTA scores of the calibration and held-out patients;
#  4. per layer: Mahalanobis distances (Ledoit-Wolf covariance per fold, mean over folds), the
#     threshold at the 99th percentile of the calibration views, held-out and real views flagged;
#  5. the chosen layer into the model folder: folds with a "features" output, the statistics file,
#     the manifest's domain block and its operating threshold (Youden's J on calibration patients).
# The numbers of the model card: $MODEL_DIR/domain-layers.json (every layer) and
# $MODEL_DIR/domain-calibration.json (the chosen layer and the operating point).
#
#   SOURCE=models/knee-tumor-v2 MODEL_DIR=models/knee-tumor-v2 bash models/training/domain-calibrate.sh
#
# SOURCE holds the exported folds (with or without a features output) and a manifest; MODEL_DIR
# receives the result (it may be the same folder). A freshly trained ensemble (export.py already
# writes the features output) goes through the same steps. VERSION and DESCRIPTION, when set,
# replace the manifest's. Version 2.0.0 of the shipped model was made from the 1.0.0 folds with
#   SOURCE=models/knee-tumor-v2 VERSION=2.0.0 DESCRIPTION="..." bash models/training/domain-calibrate.sh
# (the description as in its manifest).
set -euo pipefail
cd "$(dirname "$0")/../.."

SOURCE=${SOURCE:-models/knee-tumor-v2}
MODEL_DIR=${MODEL_DIR:-$SOURCE}
LAYER=${LAYER:-backbone-p4}
TRAIN_SEED=${TRAIN_SEED:-2024}
TRAIN_PATIENTS=${TRAIN_PATIENTS:-150}
CALIBRATION_SEED=${CALIBRATION_SEED:-5151}
CALIBRATION_PATIENTS=${CALIBRATION_PATIENTS:-100}
TEST_SEED=${TEST_SEED:-7777}
TEST_PATIENTS=${TEST_PATIENTS:-100}
WORK=${WORK:-.tmp/ood}
PYTHON=${PYTHON:-/usr/bin/python3}
REAL=(../shared/data/dicom/RG1_J2KI.dcm ../shared/data/dicom/RG2_J2KR.dcm ../shared/data/dicom/RG3_J2KR.dcm ../shared/data/dicom/RG3_512_explicitLE.dcm)
CLI=(node bin/knee-tumor.js)

step() { printf '\n== %s (%s)\n' "$1" "$(date -u +%H:%M:%S)"; }
phantoms() { # name seed patients tumor-fraction
  [ -f "$WORK/phantoms-$1/reference.json" ] && return 0
  "${CLI[@]}" phantoms --seed "$2" --patients "$3" --tumor-fraction "$4" --quiet --out "$WORK/phantoms-$1"
}
features() { # name [--scores] [--set DIR | files...]
  local name=$1; shift
  [ -s "$WORK/$name.jsonl" ] || node models/training/domain-features.js --manifest "$SOURCE/manifest.json" --features-folds "$WORK/candidates" --out "$WORK/$name.jsonl" "$@"
}

step "build"
npm run build --silent
mkdir -p "$WORK" "$MODEL_DIR"

step "phantoms: training seed $TRAIN_SEED ($TRAIN_PATIENTS), calibration seed $CALIBRATION_SEED ($CALIBRATION_PATIENTS), held-out seed $TEST_SEED ($TEST_PATIENTS)"
phantoms train "$TRAIN_SEED" "$TRAIN_PATIENTS" 0.5
phantoms calibration "$CALIBRATION_SEED" "$CALIBRATION_PATIENTS" 0.5
phantoms heldout "$TEST_SEED" "$TEST_PATIENTS" 0.25

step "candidate layers as extra outputs"
rm -rf "$WORK/candidates"
"$PYTHON" models/training/add_domain_output.py --folds "$SOURCE" --out "$WORK/candidates" --all-candidates

step "features (identity pass) and ensemble scores (TTA)"
features train --set "$WORK/phantoms-train"
features calibration --scores --set "$WORK/phantoms-calibration"
features heldout --scores --set "$WORK/phantoms-heldout"
features real --scores "${REAL[@]}"

sets=(--train "$WORK/train.jsonl" --calibration "$WORK/calibration.jsonl" --heldout "$WORK/heldout.jsonl" --real "$WORK/real.jsonl")
step "every candidate layer"
"$PYTHON" models/training/measure_domain.py "${sets[@]}" --report "$MODEL_DIR/domain-layers.json"

step "the chosen layer ($LAYER) into $MODEL_DIR"
same_dir=$([ "$(realpath "$SOURCE")" = "$(realpath "$MODEL_DIR")" ] && echo yes || echo no)
[ "$same_dir" = yes ] || cp "$SOURCE/manifest.json" "$MODEL_DIR/manifest.json"
key=()
if "$PYTHON" -c "import onnx,sys; sys.exit(0 if any(o.name == 'features' for o in onnx.load(sys.argv[1]).graph.output) else 1)" "$SOURCE/fold0.onnx"; then
  # The folds already pool a layer (export.py --domain-layer, which must be $LAYER): measure that output itself.
  [ "$same_dir" = yes ] || cp "$SOURCE"/fold*.onnx "$MODEL_DIR/"
  key=(--features-key features)
else
  "$PYTHON" models/training/add_domain_output.py --folds "$SOURCE" --out "$MODEL_DIR" --layer "$LAYER"
fi
"$PYTHON" models/training/measure_domain.py "${sets[@]}" --layer "$LAYER" "${key[@]}" --manifest "$MODEL_DIR/manifest.json" --report "$MODEL_DIR/domain-calibration.json"

if [ -n "${VERSION:-}${DESCRIPTION:-}" ]; then
  "$PYTHON" - "$MODEL_DIR/manifest.json" <<'PY'
import json, os, sys
path = sys.argv[1]
manifest = json.load(open(path))
for key, env in (("version", "VERSION"), ("description", "DESCRIPTION")):
    if os.environ.get(env):
        manifest[key] = os.environ[env]
open(path, "w").write(json.dumps(manifest, indent=2) + "\n")
PY
fi

step "the real radiographs through the new manifest"
for file in "${REAL[@]}"; do node models/training/single-radiograph.js "$MODEL_DIR/manifest.json" "$file"; done
