#!/usr/bin/env bash
# Start-up of samples/AotQuickStart as native AOT against the same app run by the JIT (framework-dependent), interleaved,
# each run to its end (list, watch, three writes, dispose) on the embedded store, or on etcd with --etcd URL.
#   benchmarks/aot-startup.sh [runs] [--etcd URL]      default 20 runs; publishes both into a temporary folder first
# On etcd, each run's keys stay under /aot-bench-<pid>-<run> (delete them with etcdctl del --prefix /aot-bench-).
# Prints the binary's size and the median and p90 wall time of each, with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
shift || true
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

# shellcheck source=benchmarks/timing.sh
source benchmarks/timing.sh
dotnet publish samples/AotQuickStart -c Release -r linux-x64 -nologo -v quiet --artifacts-path "$work/artifacts" -o "$work/aot" "${compiler[@]}" >/dev/null
dotnet publish samples/AotQuickStart -c Release -r linux-x64 -nologo -v quiet --artifacts-path "$work/artifacts-jit" -o "$work/jit" \
  -p:PublishAot=false --self-contained false >/dev/null

# On etcd each run writes under a prefix of its own: the sample creates its keys, and web-2 stays after a run.
prefix() { if [[ " $* " == *" --etcd "* ]]; then echo --key-prefix "/aot-bench-$$-$1"; fi; }
aot=(); jit=()
for ((i = 0; i < runs; i++)); do
  # shellcheck disable=SC2046 # prefix prints nothing or two words
  aot+=("$(ms "$work/aot/AotQuickStart" "$@" $(prefix "aot-$i" "$@"))")
  # shellcheck disable=SC2046
  jit+=("$(ms dotnet "$work/jit/AotQuickStart.dll" "$@" $(prefix "jit-$i" "$@"))")
done
echo "native AOT binary: $(stat -c %s "$work/aot/AotQuickStart") bytes ($(du -h "$work/aot/AotQuickStart" | cut -f1))"
echo "native AOT: $(stats "${aot[@]}")"
echo "JIT:        $(stats "${jit[@]}")"
echo "runs: $runs, args: ${*:-(embedded store)}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
