# Shared by the training benchmarks (scripts/bench-bf16.sh, scripts/bench-data-parallel.sh): sourced, not run.
# bench_setup NAME [JPEGLM]: sets work, a temporary folder removed on exit, and J, the jpeglm executable to run: the
# one given, or a Release build of Cli made into work/bin.
bench_setup() {
  work="$(mktemp -d "${TMPDIR:-/tmp}/$1.XXXXXX")"
  trap 'rm -rf "$work"' EXIT
  if [ -n "${2:-}" ]; then
    J="$2"
  else
    dotnet build "$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/Cli" -c Release -o "$work/bin" >/dev/null
    J="$work/bin/jpeglm"
  fi
}
