#!/bin/bash
# Job: run one test assembly (xUnit v3 executable) of the repository.
# usage (through run.sh): run.sh tests ASSEMBLY [xunit arguments...]
set -euo pipefail
asm=${1:?usage: tests ASSEMBLY [xunit arguments...]}; shift
dll=$REPO/tests/$asm/bin/$CONFIG/net10.0/$asm.dll
[ -f "$dll" ] || { echo "tests: $dll not found (build on the host first: dotnet build -c $CONFIG)" >&2; exit 2; }
echo "== $(date -u) start $asm $*"
rc=0
"$DOTNET" "$dll" -noColor -reporter verbose -longRunning 300 -xml /run/tern-nested/out/$asm.xml "$@" || rc=$?
echo "== $(date -u) end $asm rc=$rc"
exit $rc
