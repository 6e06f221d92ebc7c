#!/usr/bin/env bash
# Builds the test guest: BIOS-bootable qcow2 disks made only from Debian bookworm packages that boot like Fedora
# CoreOS does on first boot (Debian's real Ignition 2.14 in the initramfs, config from qemu's fw_cfg, presets
# applied, `ignition.firstboot` only until the first boot completes), with podman and a PMM stand-in image tagged
# as the recipe's PMM image. Three image versions from one root filesystem:
#   a.qcow2, b.qcow2  the same guest, told apart by IMAGE_VERSION in /etc/os-release and /etc/cnvm-test-guest
#   c.qcow2           as B, but its PMM stand-in never becomes ready (for rollback tests)
# Output: /var/cache/cnvm-test-guest/<hash of the inputs>/ (override the root with CNVM_TEST_GUEST_CACHE); a
# second run with the same inputs only prints that directory. The last line printed is always the directory.
# Needs root (debootstrap, chroot, loop mount). Facts behind the choices: ../../../shared/notes/test-guest-facts.md.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cache=${CNVM_TEST_GUEST_CACHE:-/var/cache/cnvm-test-guest}
suite=bookworm
mirror=${CNVM_TEST_GUEST_MIRROR:-http://deb.debian.org/debian}
# Host tools, and what goes into the guest (curl: dracut's url-lib, which the ignition module needs).
host_packages=(debootstrap fdisk e2fsprogs extlinux syslinux-common qemu-utils qemu-system-x86 xfsprogs gdisk golang-go zstd)
base_packages=systemd,systemd-sysv,udev,dbus,kmod,xfsprogs,gdisk,e2fsprogs,curl,ca-certificates,iproute2
guest_packages=(linux-image-amd64 dracut dracut-network ignition zstd podman crun netavark iptables)
pmm_image=docker.io/percona/pmm-server:3

log() { printf '[%(%H:%M:%S)T] build.sh: %s\n' -1 "$*" >&2; }
die() { log "$*"; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, loop devices)"

# The cache key covers everything that shapes the image: this script, the files copied in, the stand-in's source.
hash=$( (cd "$here" && find build.sh rootfs standin -type f -print0 | sort -z | xargs -0 sha256sum; echo "$suite $mirror") |
  sha256sum | cut -c1-16)
out=$cache/$hash
if [ -f "$out/done" ]; then
  echo "$out"
  exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9
# Another build may have finished while this one waited for the lock.
if [ -f "$out/done" ]; then
  echo "$out"
  exit 0
fi

missing=()
for p in "${host_packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing host packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

start=$SECONDS
work=$cache/work-$hash
root=$work/root
mnt=$work/mnt
# Everything mounted under the work directory, innermost first (containers storage mounts its own directories).
unmount_under() {
  awk -v prefix="$1" 'index($2, prefix) == 1 { print $2 }' /proc/mounts | sort -r | while read -r m; do umount -l "$m"; done
}
cleanup() {
  unmount_under "$work"
  # Never delete through a mount that is still there (the chroot has the host's /dev bound in).
  if awk -v prefix="$work" 'index($2, prefix) == 1 { found = 1 } END { exit !found }' /proc/mounts; then
    log "still mounted under $work; not removing it"
    return 1
  fi
  rm -rf --one-file-system "$work" "$out.tmp"
}
trap cleanup EXIT
cleanup
mkdir -p "$root" "$mnt" "$cache/debs" "$cache/apt-archives/partial"

log "stand-in: go build"
(cd "$here/standin" && GOCACHE=$cache/gocache GOPATH=$cache/gopath CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o "$work/pmm-standin" .)

log "debootstrap $suite (minbase)"
debootstrap --variant=minbase --cache-dir="$cache/debs" --include="$base_packages" "$suite" "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
  { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }

# A mount point of its own: containers storage remounts "/" private when unpacking a layer, which fails otherwise.
mount --bind "$root" "$root"
# The kernel's file systems, for the chroot's apt, dracut and podman; unmounted before the root is copied to a disk.
mount_api() {
  mount -t proc proc "$root/proc"
  mount -t sysfs sys "$root/sys"
  mount --bind /dev "$root/dev"
  mount --bind /dev/pts "$root/dev/pts"
}
unmount_api() { for m in dev/pts dev sys proc; do umount "$root/$m"; done; }
mount_api
mount --bind "$cache/apt-archives" "$root/var/cache/apt/archives"
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

log "apt-get install ${guest_packages[*]}"
cp /etc/resolv.conf "$root/etc/resolv.conf"
echo "deb $mirror $suite main" >"$root/etc/apt/sources.list"
# INITRD=No: the kernel's postinst would otherwise run dracut in host-only mode; it runs once, below, by hand.
in_root apt-get update -qq
in_root DEBIAN_FRONTEND=noninteractive INITRD=No apt-get install -y -qq --no-install-recommends "${guest_packages[@]}" \
  >"$work/apt.log" 2>&1 || { tail -30 "$work/apt.log" >&2; die "apt-get install in the guest failed"; }

log "configuring the guest"
cp -a "$here/rootfs/." "$root/"
kver=$(basename "$(ls -d "$root"/lib/modules/*)")
# An "uninitialized" machine-id is what makes systemd 252 treat the boot as the first (presets applied, so the
# units Ignition enables are enabled); an empty file is not.
echo uninitialized >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
# Without systemd-resolved, networkd's DNS is not written anywhere; the guest needs no names (no registry).
: >"$root/etc/resolv.conf"
# Netavark, not CNI (whose plugins are not installed), for podman's port publishing.
rm -f "$root/etc/cni/net.d/87-podman-bridge.conflist"
in_root systemctl enable cnvm-firstboot-done.service systemd-networkd.service systemd-networkd-wait-online.service >/dev/null 2>&1
# systemd-firstboot would prompt on the console for a locale and a root password on a first boot; FCOS does not.
in_root systemctl mask systemd-firstboot.service apt-daily.timer apt-daily-upgrade.timer e2scrub_reap.service >/dev/null 2>&1 || true
# Root login on the serial console only, so a person can look into a guest in emergency mode.
in_root passwd -d root >/dev/null

# A test guest needs no hardware drivers: fewer modules make the --no-hostonly initramfs smaller and dracut faster.
moddir=$root/lib/modules/$kver/kernel
# Kept: input (evdev carries the ACPI power button that a clean shutdown needs) and ata (small).
rm -rf "$moddir"/drivers/{gpu,media,infiniband,staging,bluetooth,usb,isdn,iio,mmc,nfc,hwmon,thunderbolt,platform,hid,target,nvme,edac,mtd,misc,video,atm,fpga,leds,spi,i2c,w1,parport,pcmcia,ssb,bcma,memstick,firewire,accessibility,xen,hv,gnss,mfd,regulator,extcon,pinctrl,gpio}
# Of the SCSI drivers only the core and virtio's: the rest are host adapters (21 MB).
find "$moddir/drivers/scsi" -name '*.ko*' | grep -Ev '/(scsi_mod|scsi_common|sd_mod|sr_mod|sg|virtio_scsi|scsi_transport_[a-z]+)\.ko' | xargs -r rm -f
rm -rf "$moddir"/drivers/net/{wireless,ethernet,usb,can,wan,ieee802154,fddi,hamradio,arcnet,plip,slip,ppp,wwan}
rm -rf "$moddir"/{sound,net/wireless,net/mac80211,net/bluetooth,net/sunrpc,net/ceph,net/rxrpc,net/netfilter/ipvs,fs/{btrfs,ocfs2,gfs2,nfs,nfsd,cifs,smb,ceph,f2fs,jfs,ubifs,nilfs2,reiserfs,orangefs,afs,dlm,ntfs3,udf,hfs,hfsplus}}
in_root depmod -a "$kver"

log "dracut (Ignition in the initramfs)"
rm -f "$root"/boot/initrd.img-*
in_root dracut --force --no-hostonly --add ignition --nostrip --compress zstd \
  --add-drivers "virtio_blk virtio_pci virtio_net virtio_scsi qemu_fw_cfg xfs ext4" \
  "/boot/initrd.img-$kver" "$kver" >"$work/dracut.log" 2>&1 || { tail -30 "$work/dracut.log" >&2; die "dracut failed"; }
# The journal goes to the console, debug included: Ignition logs the commands it runs (mkfs.xfs -L …) at debug.
cat >"$root/boot/extlinux.conf.in" <<EOF
DEFAULT cnvm
PROMPT 0
TIMEOUT 0
LABEL cnvm
  LINUX /boot/vmlinuz-$kver
  INITRD /boot/initrd.img-$kver
  APPEND root=LABEL=cnvm-root rw console=ttyS0,115200 systemd.journald.forward_to_console=1 systemd.journald.max_level_console=debug ignition.platform.id=qemu ignition.firstboot
EOF

log "stand-in image contents"
img=$work/standin-root
mkdir -p "$img"/{usr/bin,srv,tmp,etc}
cp "$work/pmm-standin" "$img/usr/bin/pmm-standin"
# Multi-call: the recipe runs `curl` and `grafana` in the container; both are the stand-in under another name.
ln -s pmm-standin "$img/usr/bin/curl"
ln -s pmm-standin "$img/usr/bin/grafana"
printf 'root:x:0:0:root:/root:/bin/sh\npmm:x:1000:0:pmm:/srv:/bin/sh\n' >"$img/etc/passwd"
printf 'root:x:0:\n' >"$img/etc/group"
chmod 1777 "$img/tmp"
tar -C "$img" --numeric-owner --owner=0 --group=0 -cf "$work/standin.tar" .

# Removes what a running guest never reads: debs, apt lists, docs (debootstrap's .deb cache alone is 138 MB).
rm -rf "$root"/var/lib/apt/lists/* "$root"/var/cache/apt/*.bin "$root"/usr/share/{doc,man,info,locale}/* \
  "$root"/var/log/*.log 2>/dev/null || true
umount "$root/var/cache/apt/archives"
rm -f "$root"/var/cache/apt/archives/*.deb

mkdir -p "$out.tmp"
for version in A B C; do
  lower=$(echo "$version" | tr A-Z a-z)
  log "image $version"
  # systemd greets with PRETTY_NAME ("Welcome to cnvm test guest A …"): the console shows which image booted.
  sed -i -e '/^IMAGE_ID=/d' -e '/^IMAGE_VERSION=/d' -e '/^PRETTY_NAME=/d' "$root/usr/lib/os-release"
  printf 'PRETTY_NAME="cnvm test guest %s (Debian GNU/Linux 12)"\nIMAGE_ID=cnvm-test-guest\nIMAGE_VERSION=%s\n' "$version" "$version" \
    >>"$root/usr/lib/os-release"
  echo "$version" >"$root/etc/cnvm-test-guest"
  cp "$root/boot/extlinux.conf.in" "$root/boot/extlinux/extlinux.conf" 2>/dev/null ||
    { mkdir -p "$root/boot/extlinux" && cp "$root/boot/extlinux.conf.in" "$root/boot/extlinux/extlinux.conf"; }
  # The image goes straight into the guest's containers storage (overlay, as podman uses in the guest), so the
  # recipe's `podman image exists` finds it and never pulls.
  rm -rf "$root/var/lib/containers/storage" "$root/run/libpod" "$root/run/containers"
  mountpoint -q "$root/proc" || mount_api
  changes=(--change 'USER=1000:0' --change 'WORKDIR=/srv' --change 'EXPOSE=8443' --change 'ENTRYPOINT=["/usr/bin/pmm-standin"]'
    --change 'ENV=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin')
  [ "$version" = C ] && changes+=(--change 'ENV=CNVM_STANDIN_NEVER_READY=1')
  cp "$work/standin.tar" "$root/tmp/standin.tar"
  in_root podman --events-backend=none --cgroup-manager=cgroupfs --storage-driver=overlay \
    import --quiet "${changes[@]}" /tmp/standin.tar "$pmm_image" >/dev/null
  rm -f "$root/tmp/standin.tar"
  in_root podman --events-backend=none --storage-driver=overlay image exists "$pmm_image"
  unmount_under "$root/var/lib/containers"
  rm -rf "$root/run/libpod" "$root/run/containers"
  unmount_api

  raw=$work/disk.raw
  rm -f "$raw"
  truncate -s 3G "$raw"
  printf 'label: dos\nstart=2048, type=83, bootable\n' | sfdisk -q "$raw"
  # syslinux reads ext4 without 64bit block numbers; the filesystem is filled from the directory (mkfs -d).
  mkfs.ext4 -q -F -L cnvm-root -O ^64bit,^metadata_csum_seed -E offset=1048576 -d "$root" "$raw" $(((3 * 1024 * 1024) - 1024))k
  mount -o loop,offset=1048576 "$raw" "$mnt"
  extlinux --install "$mnt/boot/extlinux" >/dev/null 2>&1
  umount "$mnt"
  dd if=/usr/lib/syslinux/mbr/mbr.bin of="$raw" bs=440 count=1 conv=notrunc status=none
  qemu-img convert -f raw -O qcow2 -c -o compression_type=zstd -m 4 -W "$raw" "$out.tmp/$lower.qcow2"
  rm -f "$raw"
done
cp "$root/boot/vmlinuz-$kver" "$out.tmp/vmlinuz"
echo "$kver" >"$out.tmp/kernel-version"
rm -rf "$out"
mv "$out.tmp" "$out"
printf 'built in %ss\n' $((SECONDS - start)) >"$out/done"
log "done in $((SECONDS - start))s: $(du -sh "$out" | cut -f1) in $out"
echo "$out"
