#!/usr/bin/env bash
# Figures of the etcd backend against etcdctl, on a throwaway etcd on loopback (ratios matter, not absolute times).
#   scripts/bench-etcd.sh [KEYS=100000] [VALUE_BYTES=200] [WATCH_SECONDS=10] [BATCH=100]
set -euo pipefail
cd "$(dirname "$0")/.."
KEYS="${1:-100000}"; SIZE="${2:-200}"; SECONDS_WATCH="${3:-10}"; BATCH="${4:-100}"
CP=$((20000 + RANDOM % 20000)); PP=$((CP + 1)); EP="http://127.0.0.1:$CP"
DATA="$(mktemp -d)"
etcd --data-dir "$DATA" --listen-client-urls "$EP" --advertise-client-urls "$EP" \
  --listen-peer-urls "http://127.0.0.1:$PP" --initial-advertise-peer-urls "http://127.0.0.1:$PP" \
  --initial-cluster "default=http://127.0.0.1:$PP" --log-level error >/dev/null 2>&1 &
ETCD=$!
trap 'kill $ETCD 2>/dev/null; wait $ETCD 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 100); do curl -sf "$EP/health" >/dev/null && break; sleep 0.1; done

dotnet build benchmarks/WatcherSync.Etcd.Bench -c Release -nologo -v quiet >/dev/null
BENCH="dotnet benchmarks/WatcherSync.Etcd.Bench/bin/Release/net10.0/WatcherSync.Etcd.Bench.dll"
$BENCH load "$EP" /bench/ "$KEYS" "$SIZE"

now() { date +%s.%N; }
echo "== time to the full picture: $KEYS keys of $SIZE bytes (best of 3)"
best_ctl=999; best_ws=999
for _ in 1 2 3; do
  t0=$(now); ETCDCTL_API=3 etcdctl --endpoints "$EP" get --prefix /bench/ >/dev/null; t1=$(now)
  ctl=$(echo "$t1 - $t0" | bc -l)
  t0=$(now); $BENCH insync "$EP" /bench/ >/dev/null; t1=$(now)
  ws=$(echo "$t1 - $t0" | bc -l)
  best_ctl=$(echo "if ($ctl < $best_ctl) $ctl else $best_ctl" | bc -l)
  best_ws=$(echo "if ($ws < $best_ws) $ws else $best_ws" | bc -l)
done
printf 'etcdctl get --prefix > /dev/null : %.3f s\n' "$best_ctl"
printf 'WatcherSync syncer to InSync (process start included): %.3f s  ratio %.2f\n' "$best_ws" "$(echo "$best_ws / $best_ctl" | bc -l)"
$BENCH insync "$EP" /bench/

echo "== watch throughput: batched puts of $BATCH for ${SECONDS_WATCH}s"
ETCDCTL_API=3 etcdctl --endpoints "$EP" watch --prefix /watch/ > "$DATA/ctl.out" 2>/dev/null &
CTL=$!
sleep 1
$BENCH watch "$EP" /watch/ "$SECONDS_WATCH" "$BATCH" | tee "$DATA/ws.out"
sleep 2
kill $CTL 2>/dev/null || true
# etcdctl prints 3 lines per PUT event (type, key, value); both readers saw the same writer run.
ctl_events=$(( $(wc -l < "$DATA/ctl.out") / 3 ))
echo "etcdctl watch --prefix received: $ctl_events events"
