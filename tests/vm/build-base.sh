#!/usr/bin/env bash
# build-base.sh - builds the VM test's base image once per machine: a minimal
# Debian 12 root file system (mmdebstrap) with systemd, networkd, the
# libraries hoist links against and what the sample bundle's hooks run
# (python3, curl), as an ext4 image plus the kernel and initrd copied out of
# it. Usage: build-base.sh OUTDIR (run as root; OUTDIR must not exist).
# test_vm_boot.sh caches OUTDIR under /var/cache/hoist-vm/<hash of this file
# and the apt sources>, so editing this recipe rebuilds the image.
set -euo pipefail

out=${1:?usage: build-base.sh OUTDIR}
[ ! -e "$out" ] || { echo "build-base: $out exists" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "build-base: needs root (mmdebstrap --mode=root)" >&2; exit 1; }

# The mirror is the host's own apt source (the only network reachable here);
# no host name is written by this script.
sources=/etc/apt/sources.list.d/debian.sources
[ -f "$sources" ] || sources=/etc/apt/sources.list
[ -f "$sources" ] || { echo "build-base: no apt sources on this host" >&2; exit 1; }

work=$(mktemp -d "${out%/*}/.build.XXXXXX")
trap 'rm -rf "$work"' EXIT
rootfs=$work/rootfs

# Libraries: what the hoist .deb's dpkg-shlibdeps Depends name on Debian 12,
# so `dpkg -i` in the guest needs no network.
include=systemd,systemd-sysv,udev,iproute2,linux-image-cloud-amd64
include=$include,curl,python3,libcurl4,libssl3,libyaml-0-2,libarchive13,zlib1g

mmdebstrap --variant=minbase --mode=root --quiet \
	--include="$include" \
	--customize-hook='echo MODULES=list > "$1/etc/initramfs-tools/conf.d/hoist-vm.conf"' \
	--customize-hook='printf "virtio_pci\nvirtio_blk\nvirtio_net\next4\n" >> "$1/etc/initramfs-tools/modules"' \
	--customize-hook='chroot "$1" update-initramfs -u -k all' \
	--customize-hook='printf "[Match]\nName=en* eth*\n\n[Network]\nDHCP=ipv4\n" > "$1/etc/systemd/network/10-qemu.network"' \
	--customize-hook='chroot "$1" systemctl enable systemd-networkd.service systemd-networkd-wait-online.service' \
	--customize-hook='echo hoist-vm > "$1/etc/hostname"' \
	--customize-hook='printf "127.0.0.1 localhost\n127.0.1.1 hoist-vm\n" > "$1/etc/hosts"' \
	--customize-hook='printf "/dev/vda / ext4 rw,relatime 0 1\n" > "$1/etc/fstab"' \
	--customize-hook='chroot "$1" passwd -d root' \
	--customize-hook='rm -rf "$1"/usr/share/doc/* "$1"/usr/share/man/* "$1"/usr/share/locale/* "$1"/var/cache/apt/*.bin' \
	bookworm "$rootfs" "$sources"

# No loop mount: mkfs.ext4 -d copies the tree into the image file.
truncate -s 2G "$work/base.img"
mkfs.ext4 -q -F -L root -d "$rootfs" "$work/base.img"
cp -L "$rootfs"/boot/vmlinuz-* "$work/vmlinuz"
cp -L "$rootfs"/boot/initrd.img-* "$work/initrd.img"
chmod 0644 "$work/base.img" "$work/vmlinuz" "$work/initrd.img"
chmod 0755 "$work"
rm -rf "$rootfs"
mv "$work" "$out"
trap - EXIT
echo "build-base: $out ready"
