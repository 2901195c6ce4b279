#!/usr/bin/env bash
# Puts the same loads on the reference broker and on mosquitto, in one run on this machine, and
# prints a markdown table with their ratios. Needs mosquitto (Debian package `mosquitto`).
#
#   benches/broker.sh                 # 5 s per load
#   DURATION=10s benches/broker.sh    # longer loads
#   UPDATE_README=1 benches/broker.sh # also rewrite the broker table in benches/README.md
#   REF_THREADS= benches/broker.sh    # reference broker on tokio's default pool (one per core)
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5s}
IDLE=${IDLE:-10000}
# One thread, as mosquitto's event loop: both brokers get the same share of the machine, and the
# generator the other core.
REF_THREADS=${REF_THREADS-1}
OUT=target/bench-broker
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$MOSQUITTO" ] || { echo "mosquitto is not installed (apt-get install mosquitto)"; exit 2; }

cargo build --release -q -p mqttspec
BIN=target/release/mqttspec
mkdir -p "$OUT"
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" || true

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.05; done; echo "port $1 never opened"; exit 1; }

REF_PID=""
MOSQ_PID=""
trap 'kill $REF_PID $MOSQ_PID 2>/dev/null; wait 2>/dev/null' EXIT
# Starts both brokers afresh on new ports (stopping running ones).
start_brokers() {
  if [ -n "$REF_PID" ]; then
    kill "$REF_PID" "$MOSQ_PID" 2>/dev/null || true
    wait "$REF_PID" "$MOSQ_PID" 2>/dev/null || true
  fi
  REF_PORT=$(free_port)
  MOSQ_PORT=$(free_port)
  "$BIN" broker --listen "127.0.0.1:$REF_PORT" ${REF_THREADS:+--threads "$REF_THREADS"} 2>>"$OUT/reference.log" &
  REF_PID=$!
  cat > "$OUT/mosquitto.conf" <<CONF
listener $MOSQ_PORT 127.0.0.1
allow_anonymous true
max_connections -1
CONF
  "$MOSQUITTO" -c "$OUT/mosquitto.conf" 2>>"$OUT/mosquitto.log" &
  MOSQ_PID=$!
  wait_port "$REF_PORT"
  wait_port "$MOSQ_PORT"
}
: >"$OUT/reference.log"
: >"$OUT/mosquitto.log"

# Idle connections first, each time on freshly started brokers: after a load a broker reuses the
# memory it freed, and its RSS growth says little about what a connection costs. Bare, then each
# subscribed to a topic of its own (as devices waiting for commands are).
for kind in bare subscribed; do
  start_brokers
  flag=()
  [ "$kind" = subscribed ] && flag=(--idle-subscribe)
  echo "== $IDLE idle connections, $kind" >&2
  "$BIN" bench "mqtt://127.0.0.1:$REF_PORT" --idle "$IDLE" "${flag[@]}" --broker-pid "$REF_PID" --json > "$OUT/idle-$kind-reference.json"
  "$BIN" bench "mqtt://127.0.0.1:$MOSQ_PORT" --idle "$IDLE" "${flag[@]}" --broker-pid "$MOSQ_PID" --json > "$OUT/idle-$kind-mosquitto.json"
done
start_brokers

# name | arguments
LOADS=(
  "fan-in qos0 64B|--publishers 8 --subscribers 1 --qos 0 --payload 64"
  "fan-in qos1 64B|--publishers 8 --subscribers 1 --qos 1 --payload 64"
  "fan-out qos0 64B|--publishers 1 --subscribers 8 --qos 0 --payload 64"
  "fan-out qos1 64B|--publishers 1 --subscribers 8 --qos 1 --payload 64"
  "fan-in qos0 4KiB|--publishers 8 --subscribers 1 --qos 0 --payload 4096"
  "fan-in qos1 4KiB|--publishers 8 --subscribers 1 --qos 1 --payload 4096"
  # Paced below both brokers' saturation: latency on the broker's path, not in the queues.
  "fan-in qos0 64B @50k/s|--publishers 8 --subscribers 1 --qos 0 --payload 64 --rate 50000"
  "fan-in qos1 64B @5k/s|--publishers 8 --subscribers 1 --qos 1 --payload 64 --rate 5000"
  "fan-out qos1 64B @5k/s|--publishers 1 --subscribers 8 --qos 1 --payload 64 --rate 5000"
)

for load in "${LOADS[@]}"; do
  name=${load%%|*}; args=${load#*|}; file=${name// /-}; file=${file//\//-}
  echo "== $name" >&2
  # shellcheck disable=SC2086
  "$BIN" bench "mqtt://127.0.0.1:$REF_PORT" $args --duration "$DURATION" --broker-pid "$REF_PID" --json > "$OUT/$file-reference.json"
  # shellcheck disable=SC2086
  "$BIN" bench "mqtt://127.0.0.1:$MOSQ_PORT" $args --duration "$DURATION" --broker-pid "$MOSQ_PID" --json > "$OUT/$file-mosquitto.json"
done

python3 - "$OUT" "$DURATION" "$IDLE" "$REF_THREADS" <<'PY' | tee "$OUT/table.md"
import json, sys, os, platform, subprocess
out, duration, idle, threads = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
names = ["fan-in qos0 64B", "fan-in qos1 64B", "fan-out qos0 64B", "fan-out qos1 64B",
         "fan-in qos0 4KiB", "fan-in qos1 4KiB",
         "fan-in qos0 64B @50k/s", "fan-in qos1 64B @5k/s", "fan-out qos1 64B @5k/s"]
def load(n, who): return json.load(open(os.path.join(out, f"{n.replace(' ', '-').replace('/', '-')}-{who}.json")))
def fmt(x, d=0): return "n/a" if x is None else f"{x:,.{d}f}"
def cpu(r, k): v = r["cpu"].get(k); return "n/a" if v is None else f"{v:.0f}%"
cpu_model = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
on = {"": "one thread per core", "1": "one thread"}.get(threads, f"{threads} threads")
print(f"Machine: {os.cpu_count()} cores, {cpu_model}; {duration} per load; reference broker on {on}; "
      + subprocess.run(["sh", "-c", "mosquitto -h 2>&1 | head -1"], capture_output=True, text=True).stdout.strip()
      + " (one thread)")
print()
print("| load | reference msg/s out | mosquitto msg/s out | ratio | reference p99 µs | mosquitto p99 µs | reference CPU | mosquitto CPU | generator CPU | steal |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
for n in names:
    r, m = load(n, "reference"), load(n, "mosquitto")
    ratio = r["messages_out_per_s"] / m["messages_out_per_s"] if m["messages_out_per_s"] else None
    p99 = lambda x: x["latency"]["p99_us"] if x["latency"] else None
    print(f"| {n} | {fmt(r['messages_out_per_s'])} | {fmt(m['messages_out_per_s'])} | {fmt(ratio, 2)}x "
          f"| {fmt(p99(r))} | {fmt(p99(m))} | {cpu(r, 'broker_percent')} | {cpu(m, 'broker_percent')} "
          f"| {cpu(r, 'generator_percent')} / {cpu(m, 'generator_percent')} "
          f"| {cpu(r, 'steal_percent')} / {cpu(m, 'steal_percent')} |")
print()
print(f"| {idle} idle connections, freshly started brokers | reference | mosquitto | ratio |")
print("|---|---:|---:|---:|")
for kind, label in [("bare", "bytes per connection"),
                    ("subscribed", "bytes per connection subscribed to a topic of its own")]:
    r = json.load(open(os.path.join(out, f"idle-{kind}-reference.json")))
    m = json.load(open(os.path.join(out, f"idle-{kind}-mosquitto.json")))
    rb, mb = r["bytes_per_connection"], m["bytes_per_connection"]
    print(f"| {label} | {fmt(rb)} | {fmt(mb)} | {fmt(rb / mb if rb and mb else None, 2)}x |")
PY

if [ "${UPDATE_README:-0}" = 1 ] && grep -q '<!-- broker-table:start -->' benches/README.md; then
  python3 - "$OUT/table.md" <<'PY'
import sys, re
table = open(sys.argv[1]).read()
readme = open("benches/README.md").read()
readme = re.sub(r"(<!-- broker-table:start -->\n).*?(<!-- broker-table:end -->)",
                lambda m: m.group(1) + table + m.group(2), readme, flags=re.S)
open("benches/README.md", "w").write(readme)
PY
  echo "benches/README.md updated" >&2
fi
