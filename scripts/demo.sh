#!/usr/bin/env bash
# Sets up the machine, builds Tern and runs the main job: `tern demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
dotnet build src/Tern.Cli -c Release -o out/tern -v quiet -nologo
exec out/tern/tern demo "$@"
