#!/bin/bash
# Boots the nested VM (QEMU TCG, emulated AMD SVM, so it has a real /dev/kvm) and runs one job in it.
#
# usage: run.sh tests ASSEMBLY [xunit args...]   e.g. run.sh tests Tern.Kvm.Tests -class "*GuestRam*"
#        run.sh bench ARGS...                    e.g. run.sh bench kvm --sizes 1G
#        run.sh cmd COMMAND [ARGS...]            e.g. run.sh cmd ls -l /dev/kvm
#
# Test assemblies and the benchmark are taken already built from this repository
# (tests/NAME/bin/$NESTED_CONFIG/net10.0, bench/Tern.Bench/bin/$NESTED_CONFIG/net10.0): build them on the host first.
# The job's output streams to stdout; everything is kept in $TERN_NESTED_DIR/runs/<time>-<job>/
# (console.log = the whole serial console, out/job.log, out/*.xml for tests). Exits with the job's exit code.
#
# env: TERN_NESTED_DIR  work directory made by setup.sh (default /tmp/tern-nested)
#      NESTED_MEM       memory of the nested VM (default 6G)
#      NESTED_PIN_CPU   host CPU to pin QEMU to with taskset (default: not pinned)
#      NESTED_TIMEOUT   kill QEMU after this many seconds (default 0 = never)
#      NESTED_TRFIX     1 (default) loads the trfix workaround in the nested VM, 0 does not
#      NESTED_NPT       1 (default) nested paging for kvm_amd, 0 shadow paging
#      NESTED_HUGEPAGES 2 MiB huge pages to reserve in the nested VM before the job (default 0)
#      NESTED_CONFIG    build configuration to take assemblies from (default Release)
#      BENCH_DIR        directory holding Tern.Bench.dll, instead of the repository's build output
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${TERN_NESTED_DIR:-/tmp/tern-nested}

die() { echo "run.sh: ERROR: $*" >&2; exit 2; }
usage() { sed -n '3,5p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }

[ $# -ge 1 ] || usage
job=$1; shift
case "$job" in tests|bench|cmd) ;; -h|--help) usage;; *) echo "run.sh: unknown job '$job'" >&2; usage;; esac
[ -f "$here/jobs/$job.sh" ] || die "missing $here/jobs/$job.sh"

[ -f "$work/env" ] || die "$work/env not found: run $here/setup.sh $work first (or set TERN_NESTED_DIR)"
# shellcheck source=/dev/null
. "$work/env"
[ -f "$VMLINUZ" ] && [ -f "$INITRD" ] || die "kernel or initramfs missing in $work: run setup.sh again"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found: run setup.sh"

repo=$(cd "$here/../.." && pwd)
dotnet=$(command -v dotnet || true)
[ -n "$dotnet" ] || die "dotnet not found on PATH"
dotnet=$(readlink -f "$dotnet")
# Inside the VM /tmp, /run and /var/tmp are fresh tmpfs: anything the job needs from the host must live elsewhere.
for p in "$repo" "$dotnet" ${BENCH_DIR:+"$BENCH_DIR"}; do
  case "$p" in /tmp/*|/run/*|/var/tmp/*|/proc/*|/sys/*|/dev/*)
    die "$p is not visible inside the nested VM (its /tmp, /run and /var/tmp are empty tmpfs): move it elsewhere";;
  esac
done
if [ -n "${BENCH_DIR:-}" ]; then BENCH_DIR=$(cd "$BENCH_DIR" && pwd); fi

run=$work/runs/$(date -u +%Y%m%d-%H%M%S)-$job-$$
mkdir -p "$run/out"
cp "$here/vm/vm-run.sh" "$run/vm-run.sh"
cp "$here/jobs/$job.sh" "$run/job.sh"
{
  printf 'JOB=%q\nREPO=%q\nDOTNET=%q\nCONFIG=%q\nHUGEPAGES=%q\n' \
    "$job" "$repo" "$dotnet" "${NESTED_CONFIG:-Release}" "${NESTED_HUGEPAGES:-0}"
  [ -n "${BENCH_DIR:-}" ] && printf 'export BENCH_DIR=%q\n' "$BENCH_DIR"
  printf 'export REPO DOTNET CONFIG\n'
  printf 'JOB_ARGS=('; [ $# -gt 0 ] && printf '%q ' "$@"; printf ')\n'
} > "$run/job.env"

qemu=(qemu-system-x86_64 -accel tcg,thread=single -cpu max -smp 1 -m "${NESTED_MEM:-6G}"
  -nographic -no-reboot -nic none
  -kernel "$VMLINUZ" -initrd "$INITRD"
  -append "console=ttyS0 quiet loglevel=4 panic=-1 kvmnpt=${NESTED_NPT:-1} trfix=${NESTED_TRFIX:-1}"
  -virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap
  -virtfs "local,path=$run,mount_tag=runio,security_model=none")
[ -n "${NESTED_PIN_CPU:-}" ] && qemu=(taskset -c "$NESTED_PIN_CPU" "${qemu[@]}")
[ "${NESTED_TIMEOUT:-0}" != 0 ] && qemu=(timeout "$NESTED_TIMEOUT" "${qemu[@]}")

echo "run.sh: job '$job $*' in $run (slow: QEMU TCG emulation)" >&2
set +e
"${qemu[@]}" < /dev/null 2>&1 | tee "$run/console.log"
qrc=${PIPESTATUS[0]}
set -e
[ "$qrc" = 0 ] || die "QEMU exited with $qrc (124 = NESTED_TIMEOUT reached); see $run/console.log"
[ -f "$run/out/rc" ] || die "the job did not finish (no $run/out/rc); see $run/console.log"
rc=$(cat "$run/out/rc")
echo "run.sh: job exited rc=$rc; output kept in $run" >&2
exit "$rc"
