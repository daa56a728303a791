# Shared by the start-up scripts (aot-startup.sh, tool-startup.sh); source it.
# compiler: the ILCompiler's linker argument where only a versioned clang is installed (Debian's clang-14).
compiler=()
if ! command -v clang >/dev/null; then
  versioned="$(compgen -c | grep -E '^clang-[0-9]+$' | sort -t- -k2 -n | tail -n 1 || true)"
  [[ -n "$versioned" ]] && compiler=("-p:CppCompilerAndLinker=$versioned")
fi
# ms COMMAND...: the wall time of one run, in milliseconds (its output discarded).
ms() { local start end; start=$(date +%s%N); "$@" >/dev/null; end=$(date +%s%N); echo $(((end - start) / 1000000)); }
# stats MS...: the median and p90 of the times given.
stats() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $1 } END { printf "median %d ms, p90 %d ms", v[int((NR + 1) / 2)], v[int(NR * 0.9 + 0.5)] }'; }
