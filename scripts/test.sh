#!/usr/bin/env bash
# Runs every test mqttspec has, installing first what they need on a fresh Debian/Ubuntu machine.
# Usage: scripts/test.sh        (from anywhere; CI calls it through .ci/run)
set -euo pipefail
cd "$(dirname "$0")/.."

# Real peers for the interop tests: mosquitto (broker) and mosquitto_pub/mosquitto_sub (clients).
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
command -v mosquitto_pub >/dev/null 2>&1 || need+=(mosquitto-clients)
if [ ${#need[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
    echo "== installing ${need[*]}"
    apt-get update -qq >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  else
    echo "note: ${need[*]} missing and not installable here; tests that need them will say so and skip"
  fi
fi

echo "== cargo test --workspace"
cargo test --workspace --locked

# Certification run: the whole scenario suite against a real broker (mosquitto), as README's
# "Certify a broker in CI" recipe shows. Its expected-failure file lists mosquitto's real
# deviations; anything else (a new failure, or a listed one that now passes) fails the run.
if command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ]; then
  echo "== mqttspec run against mosquitto"
  mosquitto_bin=$(command -v mosquitto || echo /usr/sbin/mosquitto)
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  conf=$(mktemp)
  mkdir -p target
  printf 'listener %s 127.0.0.1\nallow_anonymous true\n' "$port" > "$conf"
  "$mosquitto_bin" -c "$conf" >target/mosquitto.log 2>&1 &
  mosquitto_pid=$!
  trap 'kill "$mosquitto_pid" 2>/dev/null || true; rm -f "$conf"' EXIT
  for _ in $(seq 50); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
  status=0
  # The debug binary `cargo test` just built: the suite waits on the network, not the CPU, and
  # a release build would add minutes to CI.
  cargo run -q -p mqttspec -- run "mqtt://127.0.0.1:$port" \
    --junit target/mosquitto-junit.xml --json target/mosquitto.json \
    --expect conformance/expected/mosquitto.toml || status=$?
  kill "$mosquitto_pid" 2>/dev/null || true
  wait "$mosquitto_pid" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "mosquitto certification: results changed unexpectedly (exit $status); see above and target/mosquitto-junit.xml"
    exit 1
  fi
  echo "mosquitto certification: results as expected"
else
  echo "note: mosquitto not installed; skipping the certification run against it"
fi
