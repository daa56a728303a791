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

compiler=()
if ! command -v clang >/dev/null; then
  versioned="$(compgen -c | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)"
  [[ -n "$versioned" ]] && compiler=("-p:CppCompilerAndLinker=$versioned")
fi
dotnet publish samples/AotQuickStart -c Release -r linux-x64 -nologo -v quiet --artifacts-path "$work/artifacts" -o "$work/aot" "${compiler[@]}" >/dev/null
dotnet publish samples/AotQuickStart -c Release -r linux-x64 -nologo -v quiet --artifacts-path "$work/artifacts-jit" -o "$work/jit" \
  -p:PublishAot=false --self-contained false >/dev/null

ms() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); echo $(((end - start) / 1000000)); }
# On etcd each run writes under a prefix of its own: the sample creates its keys, and web-2 stays after a run.
prefix() { if [[ " $* " == *" --etcd "* ]]; then echo --key-prefix "/aot-bench-$$-$1"; fi; }
aot=(); jit=()
for ((i = 0; i < runs; i++)); do
  # shellcheck disable=SC2046 # prefix prints nothing or two words
  aot+=("$(ms "$work/aot/AotQuickStart" "$@" $(prefix "aot-$i" "$@"))")
  # shellcheck disable=SC2046
  jit+=("$(ms dotnet "$work/jit/AotQuickStart.dll" "$@" $(prefix "jit-$i" "$@"))")
done
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "median %d ms, p90 %d ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'; }
echo "native AOT binary: $(stat -c %s "$work/aot/AotQuickStart") bytes ($(du -h "$work/aot/AotQuickStart" | cut -f1))"
echo "native AOT: $(stats "${aot[@]}")"
echo "JIT:        $(stats "${jit[@]}")"
echo "runs: $runs, args: ${*:-(embedded store)}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
