#!/usr/bin/env bash
# Sets up the machine, builds everything and runs every test.
# Ends with one plain line "N passed, N failed, N skipped" computed from the TRX results,
# and exits non-zero if any test failed or the results are missing.
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh || exit 1

results=TestResults
rm -rf "$results"
dotnet build Tern.sln -c Release -v quiet -nologo || { echo "0 passed, 1 failed"; exit 1; }

# Reserve a few 2 MiB huge pages for the huge-page tests when running as root on a host that has none (and give
# them back at exit): without them those tests can only check the error path.
hugepages=/proc/sys/vm/nr_hugepages
if [ -w "$hugepages" ] && [ "$(cat "$hugepages" 2>/dev/null)" = 0 ] && echo 8 > "$hugepages" 2>/dev/null; then
  trap 'echo 0 > "$hugepages"' EXIT
fi

# Test assemblies run one after another (-m:1): several of them drive real KVM guests and
# measure timings that two assemblies competing for two cores would distort.
dotnet test Tern.sln -c Release --no-build -m:1 \
  --logger "trx" --results-directory "$results" \
  --blame-hang-timeout 10m "$@"
test_rc=$?

passed=0 failed=0 skipped=0 files=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  files=$((files + 1))
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  get() { printf '%s' "$counters" | grep -o " $1=\"[0-9]*\"" | grep -o '[0-9]*'; }
  p=$(get passed); f=$(get failed); e=$(get error); t=$(get total); x=$(get executed)
  passed=$((passed + ${p:-0}))
  failed=$((failed + ${f:-0} + ${e:-0}))
  skipped=$((skipped + ${t:-0} - ${x:-0}))
done

if [ "$files" -eq 0 ]; then
  echo "no test results were written"
  echo "0 passed, 1 failed"
  exit 1
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ] && [ "$test_rc" -eq 0 ]
