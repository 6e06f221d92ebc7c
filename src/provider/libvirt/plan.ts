// What each libvirt operation would run, for --dry-run: pure, from the file layout and the argv builders.
import type { DestroyVmOptions, OperationPlans, PlannedAction, VmSpec, VolumeSpec } from '../types.js';
import { baseImagePath, bootDiskPath, cmd, domainXmlPath, ignitionPath, vmDir, volumeMetaPath, volumePath, type LibvirtLayout } from './commands.js';

export function libvirtPlans(layout: LibvirtLayout, shutdownTimeoutSec: number): OperationPlans {
  return {
  createVolume: (spec: VolumeSpec): PlannedAction[] => [
    { action: 'qemu-img create', detail: cmd.createVolume(volumePath(layout, spec.name), spec.sizeGiB), effect: `new empty ${spec.sizeGiB} GiB raw volume ${spec.name}` },
    { action: 'write', detail: [volumeMetaPath(layout, spec.name)], effect: `record serial ${spec.deviceName} for ${spec.name}` },
  ],
  deleteVolume: (id: string): PlannedAction[] => [{ action: 'remove', detail: [id], effect: 'delete the data volume and everything on it' }],
  createVm: (spec: VmSpec): PlannedAction[] => [
    {
      action: 'copy',
      detail: [spec.image.id, baseImagePath(layout, '<id>', spec.image.id)],
      effect: 'copy the base image (reflink when possible, once per image) where qemu can read it, so libvirt never re-owns your file and clearing a cache cannot break the overlay',
    },
    { action: 'qemu-img create', detail: cmd.createOverlay(baseImagePath(layout, '<id>', spec.image.id), bootDiskPath(layout, spec.name)), effect: `boot disk: qcow2 overlay on ${spec.image.id}` },
    { action: 'write', detail: [ignitionPath(layout, spec.name)], effect: 'Ignition config, readable by root and the hypervisor only' },
    { action: 'write', detail: [domainXmlPath(layout, spec.name)], effect: 'domain definition (fw_cfg Ignition, virtio data disk with serial)' },
    { action: 'virsh define', detail: cmd.define(layout, domainXmlPath(layout, spec.name)), effect: `define VM ${spec.name} (not started)` },
  ],
  startVm: (name: string): PlannedAction[] => [{ action: 'virsh start', detail: cmd.start(layout, name), effect: `start ${name}` }],
  stopVm: (name: string): PlannedAction[] => [
    ...(shutdownTimeoutSec > 0 ? [{ action: 'virsh shutdown', detail: cmd.shutdown(layout, name), effect: `ask ${name} to power off (up to ${shutdownTimeoutSec} s)` }] : []),
    { action: 'virsh destroy', detail: cmd.destroy(layout, name), effect: `force ${name} off if still running` },
  ],
  destroyVm: (name: string, opts: DestroyVmOptions = {}): PlannedAction[] => [
    { action: 'virsh destroy', detail: cmd.destroy(layout, name), effect: `force ${name} off if running` },
    { action: 'virsh undefine', detail: cmd.undefine(layout, name), effect: `remove the definition of ${name} (data volumes are kept)` },
    ...(opts.deleteBootDisk === false ? [] : [{ action: 'remove', detail: [vmDir(layout, name)], effect: 'delete the boot disk overlay and the Ignition config' }]),
  ],
  attachVolume: (vmName: string, volumeId: string): PlannedAction[] => [
    { action: 'virsh attach-disk', detail: cmd.attachDisk(layout, vmName, volumeId, '<serial>'), effect: `attach ${volumeId} to stopped ${vmName}` },
  ],
  detachVolume: (vmName: string, volumeId: string): PlannedAction[] => [
    { action: 'virsh detach-disk', detail: cmd.detachDisk(layout, vmName, volumeId), effect: `detach ${volumeId} from stopped ${vmName}` },
  ],
  };
}
