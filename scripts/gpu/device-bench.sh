#!/usr/bin/env bash
# Issue 7's one command on a lent GPU machine (see the README's Performance section):
#   bash scripts/gpu/device-bench.sh            after a call that carried .gpu, this call carrying
#                                               .gpu-app and .gl (scripts/gpu/pack.sh says why)
#   bash scripts/gpu/device-bench.sh --cpu-only here: no Vulkan, no WebGPU, PyTorch on the CPU
# Options: --model <fp32 manifest> (default models/knee-tumor-v2/manifest.json), --runs N.
# Builds nothing: unpacks the carried Node and modules, makes the fp16 folds and the merged-folds
# graphs with the recipe's code, checks and times onnxruntime-node (CPU and WebGPU providers) and
# PyTorch on the same fold weights, and prints one table. Writes under $OUT (else .tmp/gpu-bench).
set -euo pipefail
cd "$(dirname "$0")/../.."

cpu_only=0
model=models/knee-tumor-v2/manifest.json
runs=10
while (($#)); do
  case $1 in
    --cpu-only) cpu_only=1 ;;
    --model) model=$2; shift ;;
    --runs) runs=$2; shift ;;
    *) echo "usage: $0 [--cpu-only] [--model manifest.json] [--runs N]" >&2; exit 2 ;;
  esac
  shift
done
[[ -f $model ]] || { echo "no ensemble at $model (pass --model)" >&2; exit 2; }
[[ -f .gpu/runtime.tar.xz ]] || { echo "no .gpu/runtime.tar.xz: run scripts/gpu/pack.sh, then a call carrying .gpu" >&2; exit 2; }
[[ -f .gpu-app/app.tar.xz ]] || { echo "no .gpu-app/app.tar.xz: run scripts/gpu/pack.sh and carry .gpu-app" >&2; exit 2; }
out=${OUT:-.tmp/gpu-bench}
mkdir -p "$out"
work=$(mktemp -d /tmp/gpu-bench.XXXXXX)
trap 'rm -rf "$work"' EXIT

if ((cpu_only)); then
  providers=cpu
  python=/usr/bin/python3
else
  providers=cpu,webgpu
  python=/opt/torch/.venv/bin/python3
  # The device tool's recipe: the image has the NVIDIA driver's Vulkan ICD but no loader.
  for f in .gl/*.deb; do dpkg -x "$f" /; done
  ldconfig
  icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
  if [[ -f $icd ]]; then export VK_DRIVER_FILES=$icd; fi
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
fi

for archive in .gpu/runtime.tar.xz .gpu-app/app.tar.xz; do xz -dc "$archive" | tar -x -C "$work"; done
node="$work/payload/bin/node"
# onnx_check.js (the recipe's check, run by torch_reference.py) resolves onnxruntime-node from the
# repository, which has no node_modules on the device: NODE_PATH is its fallback.
export PATH="$work/payload/bin:$PATH" NODE_PATH="$work/payload/node_modules" PYTHONUNBUFFERED=1
echo "$(date -u +%FT%TZ) $(uname -m), node $("$node" --version), $("$python" -c 'import torch; print("torch", torch.__version__)')"

"$python" scripts/gpu/fp16_folds.py --manifest "$model" --out "$work/variants"
"$node" "$work/payload/gpu-bench.js" run --model "$model" --fp16-model "$work/variants/fp16/manifest.json" \
  --merged "$work/variants/merged.onnx" --merged-fp16 "$work/variants/merged.fp16.onnx" \
  --providers "$providers" --runs "$runs" --out "$out/ours.json"
"$python" scripts/gpu/torch_reference.py --manifest "$model" --runs "$runs" --out "$out/torch.json"
echo
"$node" "$work/payload/gpu-bench.js" table --ours "$out/ours.json" --torch "$out/torch.json" | tee "$out/table.md"
