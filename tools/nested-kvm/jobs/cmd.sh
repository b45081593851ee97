#!/bin/bash
# Job: run an arbitrary command inside the nested VM (cwd /tmp, the host's / read-only).
# usage (through run.sh): run.sh cmd COMMAND [ARGS...]      e.g. run.sh cmd ls -l /dev/kvm
set -euo pipefail
[ $# -gt 0 ] || { echo "usage: cmd COMMAND [ARGS...]" >&2; exit 2; }
exec "$@"
