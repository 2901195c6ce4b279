#!/usr/bin/env bash
# Instruction counts per pass over the benchmark stream, under valgrind's callgrind: repeatable
# where wall-clock figures on a shared machine are not. Prints instructions per pass and per packet
# for each operation, version and codec, and the ratio rumqttc/mqttspec (higher is better for us).
#
# Usage: benches/callgrind.sh [ITERATIONS]   (from the workspace root; default 50)
# Each figure is (Ir(N passes) - Ir(0 passes)) / N, so setup (building the stream) cancels out.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-50}
cargo build --quiet --profile bench -p mqttspec-benches --example codec_profile
bin=${CARGO_TARGET_DIR:-target}/release/examples/codec_profile
packets=$($bin decode 5.0 mqttspec 0 | sed -E 's/.* x ([0-9]+) packets.*/\1/')
ir() {
  valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 \
    | sed -nE 's/.*Collected : ([0-9]+).*/\1/p'
}
printf '| operation | version | mqttspec Ir/pass | rumqttc Ir/pass | mqttspec Ir/packet | rumqttc Ir/packet | rumqttc/mqttspec |\n'
printf '|---|---|---:|---:|---:|---:|---:|\n'
for op in decode segmented encode; do
  for v in 3.1.1 5.0; do
    declare -A per=()
    for codec in mqttspec rumqttc; do
      base=$(ir $bin "$op" "$v" "$codec" 0)
      full=$(ir $bin "$op" "$v" "$codec" "$n")
      per[$codec]=$(( (full - base) / n ))
    done
    awk -v op="$op" -v v="$v" -v o="${per[mqttspec]}" -v t="${per[rumqttc]}" -v p="$packets" \
      'BEGIN { printf "| %s | %s | %d | %d | %.0f | %.0f | %.2fx |\n", op, v, o, t, o/p, t/p, t/o }'
  done
done
