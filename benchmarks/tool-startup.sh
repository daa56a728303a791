#!/usr/bin/env bash
# Start-up of the watchersync tool: the native AOT binary (what the WatcherSync.Cli.linux-x64 tool package installs)
# against the framework-dependent tool run by the JIT (what WatcherSync.Cli.any installs), interleaved, each run to its end.
#   benchmarks/tool-startup.sh [runs] [tool arguments...]      default 20 runs of `watchersync --version`
# Publishes both into a temporary folder first; prints the binary's size and the median and p90 wall time of each,
# with the load average.
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-20}"
shift || true
args=("$@")
[[ ${#args[@]} -gt 0 ]] || args=(--version)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# shellcheck source=benchmarks/timing.sh
source benchmarks/timing.sh

dotnet publish src/WatcherSync.Cli -c Release -r linux-x64 -nologo -v quiet --artifacts-path "$work/artifacts" -o "$work/aot" "${compiler[@]}" >/dev/null
dotnet publish src/WatcherSync.Cli -c Release -nologo -v quiet --artifacts-path "$work/artifacts-jit" -o "$work/jit" -p:PublishAot=false >/dev/null

aot=(); jit=()
for ((i = 0; i < runs; i++)); do
  aot+=("$(ms "$work/aot/WatcherSync.Cli" "${args[@]}")")
  jit+=("$(ms dotnet "$work/jit/WatcherSync.Cli.dll" "${args[@]}")")
done
echo "native AOT binary: $(stat -c %s "$work/aot/WatcherSync.Cli") bytes ($(du -h "$work/aot/WatcherSync.Cli" | cut -f1))"
echo "native AOT: $(stats "${aot[@]}")"
echo "JIT:        $(stats "${jit[@]}")"
echo "runs: $runs, watchersync ${args[*]}; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
