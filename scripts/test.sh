#!/usr/bin/env bash
# The one test command: installs what the tests need, builds everything in Release and runs every test project.
#   scripts/test.sh            the default run (what CI runs)
#   scripts/test.sh --soak     also the long soak variants of the fault tests
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--soak" ]]; then
  export WATCHERSYNC_SOAK=1
fi

# The etcd tests start their own etcd servers on loopback (Debian's etcd-server; etcd-client brings etcdctl for the
# tool's comparisons); the cluster fault tests freeze members with kill(1) from procps.
need=()
command -v etcd >/dev/null 2>&1 || need+=(etcd-server etcd-client)
[[ -x /bin/kill || -x /usr/bin/kill ]] || need+=(procps)
# The native AOT test (tests/WatcherSync.Aot.Tests) publishes a sample with PublishAot: the ILCompiler links with clang
# (a versioned clang-N will do, the test names it) and zlib's development files.
compgen -c | grep -E '^clang(-[0-9]+)?$' >/dev/null || need+=(clang)
[[ -e /usr/include/zlib.h ]] || need+=(zlib1g-dev)
if ((${#need[@]} > 0)); then
  echo "installing ${need[*]} with apt-get"
  SUDO=""
  if [[ "$(id -u)" != "0" ]]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
# awk reads all of etcd's output: `head` could close the pipe early and fail the script under pipefail.
etcd --version | awk 'NR == 1'

dotnet build WatcherSync.sln -c Release -nologo -v quiet

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
dotnet test WatcherSync.sln -c Release --no-build -nologo --logger "console;verbosity=normal" 2>&1 | tee "$log" || status=$?

# One closing line over every test project (each prints its own "Passed: N" / "Failed: N" block).
awk '
  /^[[:space:]]*Passed:[[:space:]]*[0-9]+/  { p += $2 }
  /^[[:space:]]*Failed:[[:space:]]*[0-9]+/  { f += $2 }
  /^[[:space:]]*Skipped:[[:space:]]*[0-9]+/ { s += $2 }
  END { printf "%d passed, %d failed, %d skipped\n", p, f, s }
' "$log"
exit "$status"
