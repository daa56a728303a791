#!/usr/bin/env bash
# Runs the chaos tests and prints their per-fault figures as a markdown table (for tests/WatcherSync.Chaos.Tests/RESULTS.md).
#   scripts/chaos-figures.sh            the default (CI) forms
#   scripts/chaos-figures.sh --soak     the long soak forms
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ "${1:-}" == "--soak" ]]; then
  export WATCHERSYNC_SOAK=1
fi

figures="$(mktemp)"
trap 'rm -f "$figures"' EXIT
export WATCHERSYNC_CHAOS_FIGURES="$figures"
dotnet build tests/WatcherSync.Chaos.Tests -c Release -nologo -v quiet >/dev/null
start=$(date +%s)
dotnet test tests/WatcherSync.Chaos.Tests -c Release --no-build -nologo >/dev/null
echo "chaos tests: all passed in $(( $(date +%s) - start )) s"
echo
echo "| fault | runs | writes | faults injected | convergences | converge p50 (s) | converge max (s) | updates lost | notes |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
sort "$figures" | awk -F'\t' '{ printf "| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", $1, $2, $3, $4, $5, $6, $7, $8, $10 }'
