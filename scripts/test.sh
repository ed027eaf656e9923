#!/usr/bin/env bash
# The whole test suite on a fresh machine: Debian packages the tests run against (installed when
# missing), a build of the TypeScript, then Jest. The tests start and stop their own servers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-debian-packages.sh test
npm run build --silent
npm run check:imports --silent
npx jest "$@"
