#!/usr/bin/env bash
# Prepares what scripts/gpu/device-bench.sh needs on the GPU machine, which has no Node and no
# Vulkan loader, into git-ignored folders that the device calls carry:
#   .gpu/runtime.tar.xz  this machine's Node 20 (stripped, ICU data zeroed: see drop_icu.py) and
#                        onnxruntime-node for Linux x64
#   .gpu-app/app.tar.xz  the benchmark bundled by esbuild and sharp with its libvips
#   .gl/                 the Vulkan loader .deb (the device tool's recipe; Dawn needs only libvulkan1)
# With the shipped folds tracked, all of it is over the tool's 64 MiB a call, so it travels in two
# calls on the same warm machine: the first carries .gpu (ignored paths stay there between
# calls), the second carries .gpu-app and .gl and runs the benchmark. Prints each call's size.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT_MIB=64

stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
payload="$stage/payload"
mkdir -p "$payload/bin" "$payload/node_modules/@img" .gpu .gpu-app

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
archive() { # target, paths inside the stage
  local target=$1
  shift
  tar -C "$stage" -cf - "$@" | nice -n 19 xz --x86 --lzma2=preset=9e -T1 >"$target.part"
  mv "$target.part" "$target"
}
rm -f .gpu/payload.tar.xz
archive .gpu/runtime.tar.xz payload/bin payload/node_modules/onnxruntime-node payload/node_modules/onnxruntime-common
archive .gpu-app/app.tar.xz payload/gpu-bench.js payload/node_modules/sharp payload/node_modules/@img payload/node_modules/detect-libc payload/node_modules/semver

if ! ls .gl/libvulkan1_*.deb >/dev/null 2>&1; then
  mkdir -p .gl /tmp/amd64/partial
  o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
  apt-get $o update -qq
  (cd .gl && apt-get $o download -qq libvulkan1)
fi

bytes() { xargs -0 -r stat -c %s | awk '{s += $1} END {print s + 0}'; }
mib() { awk -v b="$1" 'BEGIN {printf "%.1f MiB", b / 1048576}'; }
tree=$(($(git ls-files -z | bytes) + $(git ls-files -z -o --exclude-standard | bytes)))
first=$((tree + $(find .gpu -type f -print0 | bytes)))
second=$((tree + $(find .gpu-app .gl -type f -print0 | bytes)))
echo "working tree $(mib "$tree"); first call (carry .gpu) $(mib "$first"), second call (carry .gpu-app .gl) $(mib "$second"); limit $LIMIT_MIB MiB a call"
if ((first >= LIMIT_MIB * 1048576 || second >= LIMIT_MIB * 1048576)); then
  echo "over the limit: the device tool will refuse the run" >&2
  exit 1
fi
