#!/usr/bin/env bash
# Measures each fuzz target's executions per second under the build configurations that matter,
# and prints a markdown table (fuzz/README.md, "Speed"). Every run starts from the committed seed
# corpus in a fresh scratch folder, with the dictionary, for SECONDS seconds (libFuzzer's
# stat::average_exec_per_sec). Needs a nightly toolchain and cargo-fuzz.
#
#   fuzz/speed.sh                       # 30 s per run, every target
#   SECONDS_PER_RUN=10 fuzz/speed.sh decode_v5 decode_v311
#
# Configurations (one build each, in its own target folder under fuzz/target/speed-*):
#   ci       --sanitizer none: what .ci/run runs (debug assertions and trace-compares on)
#   asan     the default: AddressSanitizer, as OSS-Fuzz and ClusterFuzzLite run it (build.sh)
#   release  --sanitizer none -O: without debug assertions (no overflow checks)
#   nocmp    --sanitizer none -O --no-trace-compares: also without the comparison hooks that let
#            libFuzzer find magic values by itself
# and the last one again with -max_len=128 (inputs of a few packets only).
set -euo pipefail
cd "$(dirname "$0")"

secs=${SECONDS_PER_RUN:-30}
if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
triple="$(rustc +nightly -vV | sed -n 's/^host: //p')"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

declare -A flags=(
  [ci]="--sanitizer none"
  [asan]=""
  [release]="--sanitizer none -O"
  [nocmp]="--sanitizer none -O --no-trace-compares"
)
configs=(ci asan release nocmp)

for c in "${configs[@]}"; do
  echo "== build $c: cargo +nightly fuzz build ${flags[$c]}" >&2
  for t in "${targets[@]}"; do
    # shellcheck disable=SC2086 # the flags are words
    cargo +nightly fuzz build ${flags[$c]} --target-dir "target/speed-$c" "$t" >&2
  done
done

# One run: prints its exec/s.
run() {
  local config=$1 target=$2
  shift 2
  local dir="$scratch/$config-$target-$RANDOM"
  mkdir -p "$dir"
  "target/speed-$config/$triple/release/$target" "$dir" "corpus/$target" \
    -max_total_time="$secs" -dict=mqtt.dict -print_final_stats=1 "$@" 2>&1 |
    sed -n 's/^stat::average_exec_per_sec: *//p'
}

echo "| target | ci (\`--sanitizer none\`) | asan (default) | release (\`-O\`) | nocmp (\`-O --no-trace-compares\`) | nocmp, \`-max_len=128\` |"
echo "| --- | ---: | ---: | ---: | ---: | ---: |"
for t in "${targets[@]}"; do
  row="| \`$t\`"
  for c in "${configs[@]}"; do
    echo "== $t $c" >&2
    row+=" | $(run "$c" "$t")"
  done
  echo "== $t nocmp -max_len=128" >&2
  row+=" | $(run nocmp "$t" -max_len=128) |"
  echo "$row"
done
