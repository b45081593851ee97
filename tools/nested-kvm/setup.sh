#!/bin/bash
# Builds everything the nested-KVM VM needs into a work directory (default /tmp/tern-nested):
#   kernel/      a Debian 12 kernel package unpacked with dpkg -x (vmlinuz + modules), never installed
#   busybox/     busybox-static unpacked with dpkg -x, never installed
#   initramfs/   the initramfs tree (busybox, the modules kvm_amd and 9p need, trfix.ko, /init)
#   initramfs.gz the packed initramfs
#   trfix/       the trfix module built against that kernel's headers
#   env          what run.sh needs (kernel path, version)
# Installs with apt-get only: qemu-system-x86 cpio kmod zstd xz-utils gcc make and linux-headers-<version>
# (the headers go to /usr/src; nothing is done to the host's running kernel, /boot or bootloader).
#
# usage: setup.sh [WORKDIR]
# env:   KERNEL_PKG=linux-image-6.1.0-57-amd64  pick a kernel package (default: what linux-image-amd64 depends on)
#        SKIP_APT=1                               do not run apt-get update/install (all must be present already)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=${1:-/tmp/tern-nested}

die() { echo "setup.sh: ERROR: $*" >&2; exit 1; }
step() { echo "== $*"; }

[ "$(uname -m)" = x86_64 ] || die "this tool is for x86_64 hosts only"
[ -r /etc/debian_version ] || die "this script expects a Debian (12, bookworm) host: it uses apt-get and Debian's kernel packages"
if [ "$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; else die "run as root (or install sudo): apt-get install needs it"; fi

mkdir -p "$work" || die "cannot create $work"
work=$(cd "$work" && pwd)
case "$work" in /boot|/boot/*|/lib/modules*|/usr/lib/modules*|/) die "refusing to use $work as the work directory";; esac

if [ "${SKIP_APT:-0}" != 1 ]; then
  step "apt-get update"
  $SUDO apt-get update -qq || die "apt-get update failed"
fi

kpkg=${KERNEL_PKG:-}
if [ -z "$kpkg" ]; then
  kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -1)
  [ -n "$kpkg" ] || die "could not find which kernel package linux-image-amd64 depends on (apt-cache depends linux-image-amd64); set KERNEL_PKG"
fi
kver=${kpkg#linux-image-}
hpkg=linux-headers-$kver
step "kernel package $kpkg (version $kver), headers $hpkg"

if [ "${SKIP_APT:-0}" != 1 ]; then
  step "apt-get install qemu-system-x86 cpio kmod zstd xz-utils gcc make $hpkg"
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    qemu-system-x86 cpio kmod zstd xz-utils gcc make "$hpkg" || die "apt-get install failed"
fi
for t in qemu-system-x86_64 cpio depmod modprobe gzip make gcc dpkg-deb; do
  command -v "$t" >/dev/null || die "$t not found (install it, or run without SKIP_APT=1)"
done
[ -d "/lib/modules/$kver/build" ] || die "/lib/modules/$kver/build missing: is $hpkg installed?"

# --- downloads (apt-get download writes into the current directory; nothing is installed) ---
mkdir -p "$work/debs"
cd "$work/debs"
for p in "$kpkg" busybox-static; do
  if ! ls "${p}"_*.deb >/dev/null 2>&1; then
    step "apt-get download $p"
    apt-get download "$p" || die "apt-get download $p failed"
  fi
done
kdeb=$(ls "$work/debs/${kpkg}"_*.deb | tail -1)
bdeb=$(ls "$work/debs"/busybox-static_*.deb | tail -1)

step "unpacking $(basename "$kdeb") into $work/kernel (dpkg -x, not installed)"
rm -rf "$work/kernel" "$work/busybox"
dpkg -x "$kdeb" "$work/kernel"
step "unpacking $(basename "$bdeb") into $work/busybox"
dpkg -x "$bdeb" "$work/busybox"
vmlinuz=$work/kernel/boot/vmlinuz-$kver
[ -f "$vmlinuz" ] || die "no $vmlinuz in $kdeb"
[ -x "$work/busybox/bin/busybox" ] || die "no bin/busybox in $bdeb"

# depmod on the unpacked tree only (-b): writes modules.dep under $work/kernel
depmod -b "$work/kernel" "$kver" || die "depmod -b $work/kernel $kver failed"

# --- trfix ---
step "building trfix.ko against $hpkg"
rm -rf "$work/trfix"; mkdir -p "$work/trfix"
cp "$here/trfix/trfix.c" "$here/trfix/Makefile" "$work/trfix/"
make -C "$work/trfix" KDIR="/lib/modules/$kver/build" > "$work/trfix/build.log" 2>&1 \
  || { cat "$work/trfix/build.log" >&2; die "building trfix.ko failed (log above)"; }
vm=$(modinfo -F vermagic "$work/trfix/trfix.ko" | cut -d' ' -f1)
[ "$vm" = "$kver" ] || die "trfix.ko was built for '$vm', not $kver"

# --- initramfs ---
step "building the initramfs"
ir=$work/initramfs
rm -rf "$ir"; mkdir -p "$ir"/{bin,dev,proc,sys,tmp,newroot,mods}
cp "$work/busybox/bin/busybox" "$ir/bin/"
for a in sh cat chroot dmesg echo grep insmod ip ls mkdir mount poweroff sleep umount; do ln -s busybox "$ir/bin/$a"; done
# kvm-amd, 9p over virtio and virtio-pci with their dependencies, in load order
: > "$ir/mods/order"
for m in virtio_pci 9pnet_virtio 9p kvm-amd; do
  modprobe -d "$work/kernel" -S "$kver" --show-depends "$m" | while read -r kind path _; do
    [ "$kind" = insmod ] || continue          # "builtin X" lines need nothing
    name=$(basename "$path"); name=${name%.xz}; name=${name%.zst}
    grep -qx "$name" "$ir/mods/order" && continue
    case "$path" in
      *.ko.xz) xz -dc "$path" > "$ir/mods/$name";;
      *.ko.zst) zstd -qdc "$path" > "$ir/mods/$name";;
      *.ko) cp "$path" "$ir/mods/$name";;
      *) die "unexpected module file $path";;
    esac
    echo "$name" >> "$ir/mods/order"
  done
done
grep -qx kvm-amd.ko "$ir/mods/order" || die "kvm-amd.ko not found in $kpkg"
cp "$work/trfix/trfix.ko" "$ir/trfix.ko"
cp "$here/vm/init" "$ir/init"; chmod 755 "$ir/init"
(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.gz"

cat > "$work/env" <<EOF
# written by setup.sh on $(date -u)
KVER=$kver
VMLINUZ=$vmlinuz
INITRD=$work/initramfs.gz
EOF
step "done: $work (modules: $(tr '\n' ' ' < "$ir/mods/order"))"
echo "next: $here/run.sh cmd ls -l /dev/kvm      (with TERN_NESTED_DIR=$work if that is not /tmp/tern-nested)"
