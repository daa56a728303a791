#!/usr/bin/env bash
# Packs every package (the libraries and the watchersync tool) into one folder, with a nuget.config that maps the
# WatcherSync packages to that folder and everything else to nuget.org: how to use WatcherSync from source until its
# packages are on a feed (README.md, "Use from source").
# The tool is three packages (docs/aot.md, "The tool"): WatcherSync.Cli, which names a package per runtime;
# WatcherSync.Cli.any, framework-dependent, for every platform; and the native AOT package of this machine's runtime
# (WatcherSync.Cli.linux-x64 here), which needs clang and zlib's development files (Debian: clang zlib1g-dev).
#   scripts/pack.sh [folder]      default: artifacts/packages
#   WATCHERSYNC_TOOL_RIDS=any scripts/pack.sh [folder]     pack only these of the tool's runtime packages
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

# The tool's runtime packages, from the list in its project. Native AOT compiles for the platform it runs on only, so
# of the native ones only this machine's is packed; a platform whose package is missing gets the `any` package instead.
cli="$root/src/WatcherSync.Cli/WatcherSync.Cli.csproj"
# WATCHERSYNC_TOOL_RIDS narrows which of them are packed ("any": no native compile, as a test that only checks the
# folder uses it); the first package then names only those packed.
rids="${WATCHERSYNC_TOOL_RIDS:-$(sed -n 's:.*<ToolPackageRuntimeIdentifiers>\(.*\)</ToolPackageRuntimeIdentifiers>.*:\1:p' "$cli")}"
host="$(dotnet --info | awk '$1 == "RID:" { print $2; exit }')"
native=()
if ! command -v clang >/dev/null; then
  # The ILCompiler links with `clang`; where only a versioned one is installed (Debian's clang-14), name it.
  versioned="$(compgen -c clang- | grep -E '^clang-[0-9]+$' | sort -u -t- -k2 -n | tail -1 || true)"
  [[ -z $versioned ]] || native=("-p:CppCompilerAndLinker=$versioned")
fi
packed=()
for rid in ${rids//;/ }; do
  if [[ $rid == any ]]; then
    dotnet pack "$cli" -c Release -nologo -v quiet -r any "-p:Version=$version" "-p:PackageOutputPath=$out"
    packed+=(any)
  elif [[ $rid != "$host" ]]; then
    echo "not packed here: WatcherSync.Cli.$rid (native AOT; pack it on $rid)"
  elif ! command -v clang >/dev/null && [[ ${#native[@]} == 0 ]]; then
    echo "not packed here: WatcherSync.Cli.$rid (native AOT needs clang and zlib's development files; Debian: apt-get install clang zlib1g-dev)"
  else
    dotnet pack "$cli" -c Release -nologo -v quiet -r "$rid" "-p:Version=$version" "-p:PackageOutputPath=$out" "${native[@]}"
    packed+=("$rid")
  fi
done

# The first package names the runtime packages `dotnet tool install` may pick; it must name only those in the folder,
# or on a runtime it names but whose package was not packed here the install fails instead of taking `any`.
project_rids="$(sed -n 's:.*<ToolPackageRuntimeIdentifiers>\(.*\)</ToolPackageRuntimeIdentifiers>.*:\1:p' "$cli")"
packed_rids="$(IFS=';'; echo "${packed[*]}")"
if [[ $packed_rids != "$project_rids" ]]; then
  # MSBuild reads ';' in a -p value as the start of another property: the list goes in escaped (%3B).
  dotnet pack "$cli" -c Release -nologo -v quiet "-p:Version=$version" "-p:PackageOutputPath=$out" "-p:ToolPackageRuntimeIdentifiers=${packed_rids//;/%3B}"
fi

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
