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
