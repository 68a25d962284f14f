#!/usr/bin/env bash
# Installs what sip-edge needs on a Debian machine when it is missing: redis-server, sipp
# (Debian package sip-tester), rtpengine (the media anchor, package rtpengine-daemon) and
# chromium (the browser test-call e2e test) from apt, and the Node dependencies from the lockfile.
set -euo pipefail
cd "$(dirname "$0")/.."

need_node_major=20
if ! command -v node >/dev/null 2>&1; then
  echo "sip-edge needs Node.js >= ${need_node_major} (node not found on PATH)" >&2
  exit 1
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt "$need_node_major" ]; then
  echo "sip-edge needs Node.js >= ${need_node_major}; found $(node --version)" >&2
  exit 1
fi

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v sipp >/dev/null 2>&1 || missing+=(sip-tester)
command -v rtpengine >/dev/null 2>&1 || missing+=(rtpengine-daemon)
# the browser test calls' end-to-end test drives Debian's Chromium (puppeteer-core, no browser download)
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing from apt: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
