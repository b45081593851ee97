#!/usr/bin/env bash
# Installs what Tern needs on a fresh Debian 12 machine that already has the .NET SDK:
# the native codec and hash libraries Tern binds with LibraryImport, iproute2 for the
# network-namespace tests, and QEMU 7.2, the reference Tern is measured against.
# Safe to run again: it installs only what is missing.
set -euo pipefail

packages=(libzstd1 liblz4-1 libxxhash0 zlib1g iproute2 qemu-system-x86 gcc libc6-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [ ! -e /dev/kvm ]; then
  echo "setup: note: /dev/kvm is absent; Tern will use its simulated guest backend and KVM tests will be skipped."
fi
