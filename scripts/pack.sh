#!/usr/bin/env bash
# Packs every package (the libraries and the watchersync tool) into one folder, with a nuget.config that maps the
# WatcherSync packages to that folder and everything else to nuget.org: how to use WatcherSync from source until its
# packages are on a feed (README.md, "Use from source").
#   scripts/pack.sh [folder]      default: artifacts/packages
# The version is 0.1.0-dev.<UTC time>, so each pack is newer than the last and no NuGet cache serves an older copy;
# WATCHERSYNC_VERSION overrides it.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
out="$(realpath -m "${1:-$root/artifacts/packages}")"
version="${WATCHERSYNC_VERSION:-0.1.0-dev.$(date -u +%Y%m%d%H%M%S)}"
mkdir -p "$out"

# One pack over the projects under src/ only (a solution filter), so tests and samples are not built.
filter="$(mktemp --suffix .slnf)"
trap 'rm -f "$filter"' EXIT
{
  printf '{ "solution": { "path": "%s", "projects": [' "$root/WatcherSync.sln"
  first=1
  for project in "$root"/src/*/*.csproj; do
    [[ $first == 1 ]] || printf ','
    first=0
    printf '"%s"' "${project#"$root/"}"
  done
  printf '] } }\n'
} >"$filter"
dotnet pack "$filter" -c Release -nologo -v quiet "-p:Version=$version" "-p:PackageOutputPath=$out"

# The folder goes into XML: escape what XML gives a meaning to.
xml_out="$(printf '%s' "$out" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g')"
cat >"$out/nuget.config" <<CONFIG
<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <packageSources>
    <clear />
    <add key="nuget.org" value="https://api.nuget.org/v3/index.json" />
    <add key="watchersync-local" value="$xml_out" />
  </packageSources>
  <packageSourceMapping>
    <packageSource key="watchersync-local">
      <package pattern="WatcherSync" />
      <package pattern="WatcherSync.*" />
    </packageSource>
    <packageSource key="nuget.org">
      <package pattern="*" />
    </packageSource>
  </packageSourceMapping>
</configuration>
CONFIG

echo "packed WatcherSync $version into $out (with a nuget.config for your project)"
