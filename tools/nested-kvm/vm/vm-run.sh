#!/bin/bash
# Runs inside the nested VM, chrooted into the host's / (read-only). /run/tern-nested is the run's
# directory on the host (writable). run.sh copies this file and the job script there and writes job.env.
set -euo pipefail
IO=/run/tern-nested
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/tmp/home DOTNET_CLI_HOME=/tmp/home TMPDIR=/tmp
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
mkdir -p "$HOME" "$IO/out"
# shellcheck source=/dev/null
. "$IO/job.env"     # JOB, REPO, DOTNET, HUGEPAGES, CONFIG, JOB_ARGS (array)
{
  echo "date:   $(date -u)"
  echo "kernel: $(uname -r)"
  echo "kvm:    $(ls -l /dev/kvm 2>&1)"
  echo "svm:    $(grep -c -w svm /proc/cpuinfo) cpu(s) with svm"
  echo "trfix:  $(grep -q '^trfix ' /proc/modules && echo loaded || echo 'not loaded')"
} | tee "$IO/out/vminfo.txt"
if [ "${HUGEPAGES:-0}" != 0 ]; then
  echo "$HUGEPAGES" > /proc/sys/vm/nr_hugepages
  grep -i '^HugePages_Total' /proc/meminfo
fi
cd /tmp
set +e
bash "$IO/job.sh" "${JOB_ARGS[@]}" 2>&1 | tee "$IO/out/job.log"
rc=${PIPESTATUS[0]}
set -e
echo "$rc" > "$IO/out/rc"
echo "[vm-run] job $JOB exited rc=$rc"
sync
