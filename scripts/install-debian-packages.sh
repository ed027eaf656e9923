#!/usr/bin/env bash
# Installs the Debian packages a job runs against, only when they are missing.
#   demo: a real Orthanc with DICOMweb and GDCM (JPEG 2000 transcoding and rendering), the PACS of
#         the embedded demo EHR (npm start)
#   test: the demo's, plus PyTorch and ONNX for the training recipe's smoke test and the test
#         detector, SciPy, scikit-learn and statsmodels as independent references for the
#         statistics, and Chromium for the viewer's browser tests (npm test)
set -euo pipefail
demo=(orthanc orthanc-dicomweb orthanc-gdcm)
case "${1:-}" in
  demo) packages=("${demo[@]}") ;;
  test) packages=("${demo[@]}" python3-torch python3-onnx python3-numpy python3-scipy python3-sklearn python3-statsmodels chromium) ;;
  *) echo "usage: $0 demo|test" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "install-debian-packages: missing Debian packages (${missing[*]}); run this script as root" >&2
  exit 1
fi
echo "install-debian-packages: installing ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts the orthanc service on install; our jobs run their own instances.
service orthanc stop >/dev/null 2>&1 || true
