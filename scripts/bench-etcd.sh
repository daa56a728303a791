#!/usr/bin/env bash
# Figures of the etcd backend against etcdctl and dotnet-etcd on a throwaway etcd on loopback (ratios matter, not
# absolute times). Everything is measured side by side in one run, interleaved, several rounds, min and median.
#   scripts/bench-etcd.sh [KEYS=100000] [VALUE_BYTES=200] [ROUNDS=5] [WATCH_SECONDS=10]
# MIRROR_ONLY=1 stops after the process-to-process comparison of `mirror --count` with etcdctl; BEFORE=path/to/an/other
# WatcherSync.Cli.dll (a build of the code before a change) adds that build to each of its rounds. Each round also times
# `watchersync --version` (the cost of starting the process), and the load average is printed before and after.
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS="${1:-100000}"; SIZE="${2:-200}"; ROUNDS="${3:-5}"; SECONDS_WATCH="${4:-10}"
CP=$((20000 + RANDOM % 20000)); PP=$((CP + 1)); EP="http://127.0.0.1:$CP"
DATA="$(mktemp -d)"
etcd --data-dir "$DATA" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "default=http://127.0.0.1:$PP" --log-level error >/dev/null 2>&1 &
ETCD=$!
trap 'kill $ETCD 2>/dev/null; wait $ETCD 2>/dev/null || true; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "$EP/health" >/dev/null && break; sleep 0.1; done

dotnet build benchmarks/WatcherSync.Etcd.Bench -c Release -nologo -v quiet >/dev/null
dotnet build src/WatcherSync.Cli -c Release -nologo -v quiet >/dev/null
BENCH="dotnet benchmarks/WatcherSync.Etcd.Bench/bin/Release/net10.0/WatcherSync.Etcd.Bench.dll"
CLI="${CLI:-dotnet src/WatcherSync.Cli/bin/Release/net10.0/WatcherSync.Cli.dll}"
$BENCH load "$EP" /bench/ "$KEYS" "$SIZE"
[[ -n "${MIRROR_ONLY:-}" ]] || $BENCH load "$EP" /types/ "$KEYS" "$SIZE" 64

now() { date +%s.%N; }
stats() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "min %.3f median %.3f", a[1], m}'; }
median() { sort -g | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m}'; }

echo "== process start to printed count, $KEYS keys of $SIZE B, $ROUNDS interleaved rounds; load before: $(cut -d' ' -f1-3 /proc/loadavg)"
: > "$DATA/ctl.t"; : > "$DATA/ws.t"; : > "$DATA/before.t"; : > "$DATA/version.t"
for _ in $(seq "$ROUNDS"); do
  t0=$(now); ETCDCTL_API=3 etcdctl --command-timeout=120s --endpoints "$EP" get --prefix /bench/ >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$DATA/ctl.t"
  t0=$(now); n=$($CLI mirror --endpoints "$EP" --prefix /bench/ --count); t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$DATA/ws.t"
  if [[ -n "${BEFORE:-}" ]]; then
    t0=$(now); nb=$(dotnet "$BEFORE" mirror --endpoints "$EP" --prefix /bench/ --count); t1=$(now)
    echo "$t1 - $t0" | bc -l >> "$DATA/before.t"
  fi
  t0=$(now); $CLI --version >/dev/null; t1=$(now)
  echo "$t1 - $t0" | bc -l >> "$DATA/version.t"
done
echo "etcdctl get --prefix > /dev/null: $(stats < "$DATA/ctl.t") s"
echo "watchersync mirror --count ($n): $(stats < "$DATA/ws.t") s"
echo "ratio of medians: $(echo "$(median < "$DATA/ws.t") / $(median < "$DATA/ctl.t")" | bc -l | cut -c1-4)"
if [[ -n "${BEFORE:-}" ]]; then
  echo "before: mirror --count ($nb): $(stats < "$DATA/before.t") s, ratio of medians $(echo "$(median < "$DATA/before.t") / $(median < "$DATA/ctl.t")" | bc -l | cut -c1-4)"
fi
echo "watchersync --version: $(stats < "$DATA/version.t") s; load after: $(cut -d' ' -f1-3 /proc/loadavg)"
[[ -z "${MIRROR_ONLY:-}" ]] || exit 0

echo "== in-process list against dotnet-etcd 10.0.0 GetRangeAsync (unpaged, receive limit raised)"
for page in 100000 10000; do $BENCH list "$EP" /bench/ "$page" "$ROUNDS" "$ETCD" | tail -3; done

echo "== time to InSync over the same $KEYS keys: 1 resource type against 64"
$BENCH insync "$EP" /types/ 64 "$ROUNDS"

echo "== watch: writer txns of 100 puts at three rates, syncer and etcdctl watch side by side"
for rate in 20 100 300; do $BENCH watch "$EP" "/watch$rate/" "$SECONDS_WATCH" 100 "$rate"; done
