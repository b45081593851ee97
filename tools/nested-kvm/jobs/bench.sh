#!/bin/bash
# Job: run the benchmark program (bench/Tern.Bench) with the given arguments.
# usage (through run.sh): run.sh bench ARGS...      e.g. run.sh bench kvm --sizes 1G
# BENCH_DIR (set by run.sh from the host's environment) overrides the directory holding Tern.Bench.dll.
set -euo pipefail
dir=${BENCH_DIR:-$REPO/bench/Tern.Bench/bin/$CONFIG/net10.0}
dll=$dir/Tern.Bench.dll
[ -f "$dll" ] || { echo "bench: $dll not found (build on the host first: dotnet build -c $CONFIG bench/Tern.Bench)" >&2; exit 2; }
echo "== $(date -u) start bench $*"
rc=0
"$DOTNET" "$dll" "$@" || rc=$?
echo "== $(date -u) end bench rc=$rc"
exit $rc
