#!/usr/bin/env bash
# Installs the Debian packages the test suite runs against, only when they are missing:
# a real Orthanc with DICOMweb and GDCM (JPEG 2000 transcoding and rendering), PyTorch and ONNX
# for the training recipe's smoke test and the test detectors, SciPy and scikit-learn as
# independent references for the statistics, and Chromium for the viewer's browser tests.
set -euo pipefail
packages=(orthanc orthanc-dicomweb orthanc-gdcm python3-torch python3-onnx python3-numpy python3-scipy python3-sklearn chromium)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-test-deps: missing Debian packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "install-test-deps: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the orthanc service on install; the tests run their own instances.
service orthanc stop >/dev/null 2>&1 || true
