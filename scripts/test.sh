#!/usr/bin/env bash
# Runs every test tier: typecheck, unit, integration (real Redis started by the tests) and
# end-to-end (real drachtio-server + SIPp + Redis; skipped loudly when `drachtio` is not on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npx tsc -p tsconfig.json --noEmit
npx vitest run "$@"
