#!/usr/bin/env bash
# libvirt + qemu for the provider tests, on a Debian machine without systemd (run as root). Idempotent.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
packages=(libvirt-daemon-system libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils virtinst xz-utils)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Why libvirt calls took 12-40 s here: /dev/kvm is root:root 0600 without udev, so libvirtd (running qemu as
# libvirt-qemu) finds KVM "not available now" and re-probes every qemu binary's capabilities on each define,
# attach --config and detach --config. Give /dev/kvm the group and mode udev would, before the daemon starts.
if [ -e /dev/kvm ]; then
  chgrp kvm /dev/kvm 2>/dev/null || true
  chmod 0660 /dev/kvm
fi

if virsh -c qemu:///system list >/dev/null 2>&1; then exit 0; fi
running() { if command -v pgrep >/dev/null; then pgrep -x "$1" >/dev/null; else pidof "$1" >/dev/null; fi; }
running virtlogd || virtlogd -d
running libvirtd || libvirtd -d
for _ in $(seq 1 50); do
  if virsh -c qemu:///system list >/dev/null 2>&1; then exit 0; fi
  sleep 0.2
done
echo "libvirtd did not answer on qemu:///system" >&2
exit 1
