#!/usr/bin/env bash
# Trains the method's five-fold ensemble on a site's own studies.
#
#   bash models/training/retrain-site.sh --dicom /data/knee-studies --csv /data/boxes.csv --out models/site-model
#   bash models/training/retrain-site.sh --dicom /data/knee-studies --labelme /data/labelme --out models/site-model
#
# --dicom holds the studies (any layout; views are found from the DICOM tags, as in an analysis);
# boxes come as a CSV (imageId or file, x, y, width, height in image pixels, one row per lesion)
# or LabelMe JSON files; images without boxes are normal radiographs. Settings come from the
# environment: IMG (default 1280, the method's; 640 on a CPU), SIZE (s), EPOCHS (100), PATIENCE
# (20), BATCH (16), NAME, VERSION. On a GPU machine, PYTHON may point at its PyTorch.
set -euo pipefail
usage() { sed -n '4,5p' "$0" >&2; exit 2; }

dicom="" boxes=() out=""
while [ $# -gt 0 ]; do
  case "$1" in
    --dicom) dicom=$2; shift 2 ;;
    --csv|--labelme) boxes=("$1" "$2"); shift 2 ;;
    --out) out=$2; shift 2 ;;
    *) usage ;;
  esac
done
[ -n "$dicom" ] && [ ${#boxes[@]} -eq 2 ] && [ -n "$out" ] || usage

root="$(cd "$(dirname "$0")/../.." && pwd)"
work="$out/.training"
PYTHON=${PYTHON:-/usr/bin/python3}

node "$root/bin/knee-tumor.js" training-set --dicom "$dicom" "${boxes[@]}" --out "$work/train-set"
"$PYTHON" "$root/models/training/train.py" --data "$work/train-set" --out "$work/run" --img "${IMG:-1280}" \
  --size "${SIZE:-s}" --epochs "${EPOCHS:-100}" --patience "${PATIENCE:-20}" --folds 5 --batch "${BATCH:-16}"
"$PYTHON" "$root/models/training/export.py" --weights "$work/run" --out "$out" --name "${NAME:-knee-tumor-site}" \
  --version "${VERSION:-0.1.0}" --training-data clinical
echo "model: $out/manifest.json (training log and out-of-fold results: $work/run)"
