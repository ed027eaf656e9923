#!/usr/bin/env bash
# Prepares what scripts/gpu/device-bench.sh needs on the GPU machine, which has no Node and no
# Vulkan loader, into two git-ignored folders that the device run carries:
#   .gpu/payload.tar.xz  this machine's Node 20 (stripped, ICU data zeroed: see drop_icu.py), the
#                        benchmark bundled by esbuild, and the node_modules it cannot bundle
#                        (onnxruntime-node for Linux x64 and sharp with its libvips)
#   .gl/                 the Vulkan loader .deb (the device tool's recipe; Dawn needs only libvulkan1)
# and prints what the run will send against the tool's 64 MiB limit.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT_MIB=64

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
payload="$stage/payload"
mkdir -p "$payload/bin" "$payload/node_modules/@img" .gpu

npx esbuild server/src/bench/gpu-bench.ts --bundle --platform=node --target=node20 \
  --external:onnxruntime-node --external:sharp --outfile="$payload/gpu-bench.js" --log-level=warning

node_bin=$(command -v node)
cp "$node_bin" "$payload/bin/node"
strip "$payload/bin/node"
/usr/bin/python3 scripts/gpu/drop_icu.py "$node_bin" "$payload/bin/node"
"$payload/bin/node" -e 'if (!process.version.startsWith("v20.")) process.exit(1)'

copy() { mkdir -p "$payload/node_modules/$(dirname "$1")" && cp -a "node_modules/$1" "$payload/node_modules/$1"; }
ort=onnxruntime-node
mkdir -p "$payload/node_modules/$ort/bin/napi-v6/linux"
cp -a node_modules/$ort/package.json node_modules/$ort/dist "$payload/node_modules/$ort/"
cp -a node_modules/$ort/bin/napi-v6/linux/x64 "$payload/node_modules/$ort/bin/napi-v6/linux/"
mkdir -p "$payload/node_modules/onnxruntime-common/dist" "$payload/node_modules/sharp"
cp -a node_modules/onnxruntime-common/package.json "$payload/node_modules/onnxruntime-common/"
cp -a node_modules/onnxruntime-common/dist/cjs "$payload/node_modules/onnxruntime-common/dist/"
cp -a node_modules/sharp/package.json node_modules/sharp/dist "$payload/node_modules/sharp/"
for m in @img/sharp-linux-x64 @img/sharp-libvips-linux-x64 @img/colour detect-libc semver; do copy "$m"; done

# The x86 filter turns relative call addresses absolute first: about 5 % smaller for machine code.
tar -C "$stage" -cf - payload | nice -n 19 xz --x86 --lzma2=preset=9e -T1 > .gpu/payload.tar.xz.part
mv .gpu/payload.tar.xz.part .gpu/payload.tar.xz

if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download -qq libvulkan1)
fi

bytes() { xargs -0 -r stat -c %s | awk '{s += $1} END {print s + 0}'; }
tracked=$(git ls-files -z | bytes)
untracked=$(git ls-files -z -o --exclude-standard | bytes)
carried=$(find .gpu .gl -type f -print0 | bytes)
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
total=$((tracked + untracked + carried))
echo "payload: .gpu $(mib "$(find .gpu -type f -print0 | bytes)"), .gl $(mib "$(find .gl -type f -print0 | bytes)")"
echo "the device run sends $(mib "$total"): tracked $(mib "$tracked"), untracked $(mib "$untracked"), carried $(mib "$carried"); limit $LIMIT_MIB MiB"
if [[ ! -f models/knee-tumor-v1/manifest.json ]]; then
  echo "models/knee-tumor-v1 is not here yet: its five fp32 folds (about 35 MB) will add to the tracked size"
fi
if ((total >= LIMIT_MIB * 1048576)); then
  echo "over the limit: the device tool will refuse the run" >&2
  exit 1
fi
