#!/usr/bin/env bash
# Sets everything up and runs the edge on this machine: installs what is missing, builds,
# starts a local Redis (unless REDIS_URL is set), rtpengine on loopback as the media anchor
# (unless RTPENGINE is set or MEDIA_ANCHOR=off) and drachtio-server (when the `drachtio`
# binary is on PATH and DRACHTIO_HOST is not set), turns on browser test calls (the page at
# /test-call, SIP over ws on 127.0.0.1:5062), seeds a demo trunk/agent/number, then runs the
# edge in the foreground. Ctrl-C stops everything it started.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/ensure-deps.sh
npm run build --silent

run_dir=.run
mkdir -p "$run_dir"
pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap cleanup EXIT

if [ -z "${REDIS_URL:-}" ]; then
  redis_port=${DEV_REDIS_PORT:-6399}
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$run_dir" \
    --daemonize no >"$run_dir/redis.log" 2>&1 &
  pids+=($!)
  export REDIS_URL="redis://127.0.0.1:${redis_port}/0"
  for _ in $(seq 1 50); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  echo "local Redis on 127.0.0.1:${redis_port}"
fi

export MEDIA_ANCHOR=${MEDIA_ANCHOR:-always}
if [ "$MEDIA_ANCHOR" != off ] && [ -z "${RTPENGINE:-}" ]; then
  ng_port=${DEV_RTPENGINE_NG_PORT:-22222}
  # userspace forwarding (no kernel module); RTP on 127.0.0.1, ports 40000-40999
  rtpengine --config-file=none --foreground --table=-1 --interface=127.0.0.1 \
    --listen-ng="127.0.0.1:${ng_port}" --port-min=40000 --port-max=40999 --log-stderr \
    >"$run_dir/rtpengine.log" 2>&1 &
  pids+=($!)
  export RTPENGINE="127.0.0.1:${ng_port}"
  echo "rtpengine (media anchor): ng 127.0.0.1:${ng_port}, RTP on 127.0.0.1:40000-40999"
fi

if [ -z "${DRACHTIO_HOST:-}" ]; then
  if command -v drachtio >/dev/null 2>&1; then
    sed "s#@RUN_DIR@#$(pwd)/$run_dir#g" config/drachtio.dev.conf.xml >"$run_dir/drachtio.conf.xml"
    drachtio -f "$run_dir/drachtio.conf.xml" >"$run_dir/drachtio.out" 2>&1 &
    pids+=($!)
    echo "drachtio-server: SIP on 127.0.0.1:5060 (udp/tcp), ws on 127.0.0.1:5062 (browsers), admin 127.0.0.1:9022"
  else
    echo "drachtio-server not found on PATH: the admin API runs, /readyz says what is missing (see README)"
  fi
fi

if [ -z "${ADMIN_TOKEN:-}" ]; then
  [ -s "$run_dir/admin-token" ] || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))' >"$run_dir/admin-token"
  ADMIN_TOKEN=$(cat "$run_dir/admin-token")
  export ADMIN_TOKEN
fi
export SIP_EDGE_CONFIG=${SIP_EDGE_CONFIG:-config/sip-edge.yaml}

# Browser test calls over drachtio's ws contact on 127.0.0.1:5062 (config/drachtio.dev.conf.xml);
# they need the media anchor. TEST_CALL_SECRET=off leaves them off.
if [ "$MEDIA_ANCHOR" != off ] && [ "${TEST_CALL_SECRET:-}" != off ]; then
  if [ -z "${TEST_CALL_SECRET:-}" ]; then
    [ -s "$run_dir/test-call-secret" ] || node -e 'process.stdout.write(require("crypto").randomBytes(24).toString("hex"))' >"$run_dir/test-call-secret"
    TEST_CALL_SECRET=$(cat "$run_dir/test-call-secret")
  fi
  export TEST_CALL_SECRET
  export TEST_CALL_WS_URL=${TEST_CALL_WS_URL:-ws://127.0.0.1:5062}
  export TEST_CALL_PORTS=${TEST_CALL_PORTS:-5062}
  echo "browser test calls: http://127.0.0.1:${ADMIN_PORT:-8080}/test-call (SIP over ${TEST_CALL_WS_URL})"
else
  unset TEST_CALL_SECRET
fi

node dist/tools/seedDemo.js
echo "admin API: http://127.0.0.1:${ADMIN_PORT:-8080}  (token in $run_dir/admin-token)"
echo "try:  curl -s -H \"Authorization: Bearer \$(cat $run_dir/admin-token)\" http://127.0.0.1:${ADMIN_PORT:-8080}/v1/phone-numbers"
# a young generation of 64 MB: see "Node flags" in the README
node --max-semi-space-size=64 dist/main.js
