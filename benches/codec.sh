#!/usr/bin/env bash
# Runs the codec benchmarks (criterion: ours vs rumqttc, both versions) RUNS times, counts
# instructions under callgrind once, and prints the tables; with UPDATE_README=1 (the default) it
# also rewrites the codec tables of benches/README.md. Run from anywhere in the workspace.
#
#   benches/codec.sh                      # 2 runs, 1 s warm-up and 3 s measurement per benchmark
#   RUNS=3 MEASURE=5 benches/codec.sh     # more and longer runs on a quieter machine
#   UPDATE_README=0 benches/codec.sh      # print only
#   CALLGRIND=0 benches/codec.sh          # skip the instruction counts (needs valgrind)
set -euo pipefail
cd "$(dirname "$0")/.."

RUNS=${RUNS:-2}
MEASURE=${MEASURE:-3}
WARMUP=${WARMUP:-1}
TARGET=${CARGO_TARGET_DIR:-target}
OUT=$TARGET/bench-codec
mkdir -p "$OUT"
: >"$OUT/runs.jsonl"

cargo build -q --release -p mqttspec-benches --bin codec-report
REPORT=$TARGET/release/codec-report

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
for run in $(seq "$RUNS"); do
  echo "codec benches: run $run of $RUNS (log in $OUT/criterion-$run.log)" >&2
  cargo bench -q -p mqttspec-benches --bench codec -- \
    --warm-up-time "$WARMUP" --measurement-time "$MEASURE" >"$OUT/criterion-$run.log" 2>&1
  "$REPORT" collect "$TARGET/criterion" "$run" >>"$OUT/runs.jsonl"
done
load_after=$(cut -d' ' -f1-3 /proc/loadavg)

{
  echo "Measured $(date -u +%Y-%m-%d) on $(nproc) cores of $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'),"
  echo "$(rustc --version | cut -d' ' -f1-2), \`cargo bench\` profile (release + debug info)."
  echo "Load average (1, 5, 15 min) $load_before before and $load_after after: the machine is"
  echo "shared with other builds, so single figures move by tens of percent between runs."
  echo
  "$REPORT" table "$OUT/runs.jsonl"
} >"$OUT/table.md"
cat "$OUT/table.md"

echo >&2 "codec_profile quick: best of 40 interleaved rounds"
cargo build -q --profile bench -p mqttspec-benches --example codec_profile
"$TARGET/release/examples/codec_profile" quick 40 >"$OUT/quick.md"
echo
cat "$OUT/quick.md"

if [ "${CALLGRIND:-1}" = 1 ]; then
  echo >&2 "callgrind: instruction counts per pass"
  benches/callgrind.sh >"$OUT/callgrind.md"
  echo
  cat "$OUT/callgrind.md"
fi

if [ "${UPDATE_README:-1}" = 1 ] && grep -q '<!-- codec-table:start -->' benches/README.md; then
  python3 - "$OUT/table.md" "$OUT/callgrind.md" "$OUT/quick.md" <<'PY'
import os, re, sys
readme = open("benches/README.md").read()
for marker, path in [("codec-table", sys.argv[1]), ("codec-quick", sys.argv[3]),
                     ("codec-callgrind", sys.argv[2])]:
    if not os.path.exists(path) or (marker == "codec-callgrind" and os.environ.get("CALLGRIND", "1") != "1"):
        continue
    table = open(path).read()
    readme = re.sub(rf"(<!-- {marker}:start -->\n).*?(<!-- {marker}:end -->)",
                    lambda m: m.group(1) + table + m.group(2), readme, flags=re.S)
open("benches/README.md", "w").write(readme)
PY
  echo "benches/README.md updated" >&2
fi
