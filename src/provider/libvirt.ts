// The libvirt adapter: virsh and qemu-img through execa. Data volumes are raw files under
// <storageDir>/volumes/ with a small JSON sidecar (name, size, serial); VMs are persistent domains carrying
// cnvm's metadata namespace, each with <storageDir>/vms/<name>/ holding the qcow2 overlay of the base image, the
// Ignition config (handed to the guest through fw_cfg) and the domain XML cnvm defined. cnvm never writes into a
// data volume after `qemu-img create`.
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../util/atomic-write.js';
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from './errors.js';
import {
  bootDiskPath,
  checkName,
  cmd,
  domainXml,
  domainXmlPath,
  ignitionPath,
  parseDomainXml,
  parseDomIfAddr,
  parseDomState,
  vmDir,
  volumeMetaPath,
  volumePath,
  type LibvirtLayout,
} from './libvirt-commands.js';
import type { ListResult, PlannedAction, Provider, VmInfo, VmSpec, Volume, VolumeSpec } from './types.js';

export interface LibvirtOptions {
  /** Connection URI: qemu:///system (default), qemu:///session, qemu+ssh://host/system. */
  uri?: string;
  /** Where volumes and VM files live (must be on the hypervisor host; remote URIs need a shared path). */
  storageDir?: string;
  /** libvirt network for new VMs; `null` for none. Default: `default`. */
  network?: string | null;
  /** kvm when /dev/kvm is usable, else qemu (TCG). */
  virtType?: 'kvm' | 'qemu';
  /** Seconds to wait for an ACPI shutdown before forcing the VM off (0: force at once). */
  shutdownTimeoutSec?: number;
}

export function defaultStorageDir(uri: string): string {
  if (uri.includes('/session')) return join(process.env.XDG_DATA_HOME ?? join(homedir(), '.local', 'share'), 'cnvm', 'libvirt');
  return '/var/lib/cnvm/libvirt';
}

function defaultVirtType(): 'kvm' | 'qemu' {
  try {
    accessSync('/dev/kvm', constants.R_OK | constants.W_OK);
    return 'kvm';
  } catch {
    return 'qemu';
  }
}

interface VolumeMeta {
  name: string;
  sizeGiB: number;
  deviceName: string;
  vmName?: string;
  managedBy: 'cnvm';
}

export function createLibvirtProvider(options: LibvirtOptions = {}): Provider {
  const uri = options.uri ?? 'qemu:///system';
  const layout: LibvirtLayout = { uri, storageDir: options.storageDir ?? defaultStorageDir(uri) };
  const network = options.network === undefined ? 'default' : (options.network ?? undefined);
  const virtType = options.virtType ?? defaultVirtType();
  const shutdownTimeoutSec = options.shutdownTimeoutSec ?? 60;

  async function run(argv: string[]): Promise<string> {
    const { execa } = await import('execa');
    const [file, ...args] = argv as [string, ...string[]];
    const result = await execa(file, args, { reject: false, stdin: 'ignore' });
    if (result.exitCode !== 0) throw classify(argv, `${result.stderr || result.stdout}`.trim());
    return result.stdout;
  }

  /** Runs virsh and returns undefined instead of throwing when the domain does not exist. */
  async function tryRun(argv: string[]): Promise<string | undefined> {
    try {
      return await run(argv);
    } catch (err) {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    }
  }

  function readVolumeMeta(name: string): VolumeMeta | undefined {
    const path = volumeMetaPath(layout, name);
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as VolumeMeta;
  }

  async function domainNames(): Promise<string[]> {
    return (await run(cmd.listAll(layout))).split('\n').map((s) => s.trim()).filter(Boolean);
  }

  /** Which cnvm domain has this file attached (the domain definitions are the only record of attachments). */
  async function attachmentOf(path: string): Promise<string | undefined> {
    for (const name of await domainNames()) {
      const xml = await tryRun(cmd.dumpxml(layout, name));
      if (xml && parseDomainXml(xml).disks.some((d) => d.path === path)) return name;
    }
    return undefined;
  }

  async function volumeFromMeta(meta: VolumeMeta): Promise<Volume> {
    const path = volumePath(layout, meta.name);
    const attachedTo = await attachmentOf(path);
    const sizeGiB = Math.round(statSync(path).size / 2 ** 30);
    return { id: path, name: meta.name, sizeGiB, deviceName: meta.deviceName, ...(attachedTo ? { attachedTo } : {}) };
  }

  function volumeNameOf(id: string): string {
    const name = id.startsWith(join(layout.storageDir, 'volumes') + '/') ? id.slice(id.lastIndexOf('/') + 1).replace(/\.img$/, '') : '';
    if (!name || !existsSync(id)) throw new NotFoundError(`volume ${id} is not one of cnvm's volumes in ${join(layout.storageDir, 'volumes')}`);
    return name;
  }

  async function describe(name: string): Promise<VmInfo | undefined> {
    const xml = await tryRun(cmd.dumpxml(layout, name));
    if (xml === undefined) return undefined;
    const parsed = parseDomainXml(xml);
    if (!parsed.cnvm) throw new ProviderError('invalid', `domain ${name} exists but was not created by cnvm; refusing to manage it`);
    const state = parseDomState((await tryRun(cmd.domstate(layout, name))) ?? '');
    const volumes = parsed.disks
      .filter((d) => d.path.startsWith(join(layout.storageDir, 'volumes') + '/'))
      .map((d) => ({ volumeId: d.path, deviceName: d.serial ?? '' }));
    const addresses = state === 'running' && network ? parseDomIfAddr((await tryRun(cmd.domifaddr(layout, name))) ?? '') : [];
    return { name, id: name, state, image: parsed.image, volumes, addresses };
  }

  async function mustDescribe(name: string): Promise<VmInfo> {
    const vm = await describe(name);
    if (!vm) throw new NotFoundError(`no VM named ${name} on ${uri}`);
    return vm;
  }

  async function waitForState(name: string, wanted: VmInfo['state'], seconds: number): Promise<boolean> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const state = parseDomState((await tryRun(cmd.domstate(layout, name))) ?? '');
      if (state === wanted) return true;
      if (Date.now() >= deadline) return false;
      await new Promise((r) => setTimeout(r, 500));
    }
  }

  const plan = {
    createVolume: (spec: VolumeSpec): PlannedAction[] => [
      { action: 'qemu-img create', detail: cmd.createVolume(volumePath(layout, spec.name), spec.sizeGiB), effect: `new empty ${spec.sizeGiB} GiB raw volume ${spec.name}` },
      { action: 'write', detail: [volumeMetaPath(layout, spec.name)], effect: `record serial ${spec.deviceName} for ${spec.name}` },
    ],
    deleteVolume: (id: string): PlannedAction[] => [{ action: 'remove', detail: [id], effect: 'delete the data volume and everything on it' }],
    createVm: (spec: VmSpec): PlannedAction[] => [
      { action: 'qemu-img create', detail: cmd.createOverlay(spec.image.id, bootDiskPath(layout, spec.name)), effect: `boot disk: qcow2 overlay on ${spec.image.id}` },
      { action: 'write', detail: [ignitionPath(layout, spec.name)], effect: 'Ignition config, readable by root and the hypervisor only' },
      { action: 'write', detail: [domainXmlPath(layout, spec.name)], effect: 'domain definition (fw_cfg Ignition, virtio data disk with serial)' },
      { action: 'virsh define', detail: cmd.define(layout, domainXmlPath(layout, spec.name)), effect: `define VM ${spec.name} (not started)` },
    ],
    startVm: (name: string): PlannedAction[] => [{ action: 'virsh start', detail: cmd.start(layout, name), effect: `start ${name}` }],
    stopVm: (name: string): PlannedAction[] => [
      ...(shutdownTimeoutSec > 0 ? [{ action: 'virsh shutdown', detail: cmd.shutdown(layout, name), effect: `ask ${name} to power off (up to ${shutdownTimeoutSec} s)` }] : []),
      { action: 'virsh destroy', detail: cmd.destroy(layout, name), effect: `force ${name} off if still running` },
    ],
    destroyVm: (name: string): PlannedAction[] => [
      { action: 'virsh destroy', detail: cmd.destroy(layout, name), effect: `force ${name} off if running` },
      { action: 'virsh undefine', detail: cmd.undefine(layout, name), effect: `remove the definition of ${name} (data volumes are kept)` },
      { action: 'remove', detail: [vmDir(layout, name)], effect: 'delete the boot disk overlay and the Ignition config' },
    ],
    attachVolume: (vmName: string, volumeId: string): PlannedAction[] => [
      { action: 'virsh attach-disk', detail: cmd.attachDisk(layout, vmName, volumeId, '<serial>'), effect: `attach ${volumeId} to stopped ${vmName}` },
    ],
    detachVolume: (vmName: string, volumeId: string): PlannedAction[] => [
      { action: 'virsh detach-disk', detail: cmd.detachDisk(layout, vmName, volumeId), effect: `detach ${volumeId} from stopped ${vmName}` },
    ],
  };

  return {
    name: 'libvirt',
    plan,

    async findVolume(name) {
      const meta = readVolumeMeta(checkName('volume', name));
      return meta && existsSync(volumePath(layout, name)) ? volumeFromMeta(meta) : undefined;
    },

    async createVolume(spec) {
      const existing = await this.findVolume(spec.name);
      if (existing) return existing;
      if (!Number.isInteger(spec.sizeGiB) || spec.sizeGiB < 1) throw new ProviderError('invalid', `volume size must be a whole number of GiB ≥ 1, got ${spec.sizeGiB}`);
      if (!/^[A-Za-z0-9_.-]{1,20}$/.test(spec.deviceName)) throw new ProviderError('invalid', `virtio serial ${JSON.stringify(spec.deviceName)} must be 1-20 characters of [A-Za-z0-9_.-]`);
      const path = volumePath(layout, spec.name);
      mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
      if (!existsSync(path)) await run(cmd.createVolume(path, spec.sizeGiB));
      const meta: VolumeMeta = { name: spec.name, sizeGiB: spec.sizeGiB, deviceName: spec.deviceName, ...(spec.vmName ? { vmName: spec.vmName } : {}), managedBy: 'cnvm' };
      writeFileAtomic(volumeMetaPath(layout, spec.name), `${JSON.stringify(meta, null, 2)}\n`, 0o644);
      return volumeFromMeta(meta);
    },

    async deleteVolume(id) {
      if (!existsSync(id)) return;
      const name = volumeNameOf(id);
      const holder = await attachmentOf(id);
      if (holder) throw new InUseError(`volume ${name} is attached to ${holder}; detach it first`);
      rmSync(id, { force: true });
      rmSync(volumeMetaPath(layout, name), { force: true });
    },

    findVm: (name) => describe(checkName('VM', name)),

    async createVm(spec) {
      const existing = await describe(checkName('VM', spec.name));
      if (existing) return existing;
      if (!existsSync(spec.image.id)) throw new NotFoundError(`base image ${spec.image.id} does not exist`);
      let dataDisk: { path: string; serial: string } | undefined;
      if (spec.dataVolumeId) {
        const name = volumeNameOf(spec.dataVolumeId);
        const holder = await attachmentOf(spec.dataVolumeId);
        if (holder) throw new InUseError(`volume ${name} is attached to ${holder}; a volume is attached to one VM at a time`);
        dataDisk = { path: spec.dataVolumeId, serial: readVolumeMeta(name)?.deviceName ?? name.slice(0, 20) };
      }
      const dir = vmDir(layout, spec.name);
      mkdirSync(dir, { recursive: true, mode: 0o711 });
      const boot = bootDiskPath(layout, spec.name);
      if (!existsSync(boot)) await run(cmd.createOverlay(spec.image.id, boot));
      writeIgnition(ignitionPath(layout, spec.name), spec.ignition);
      // On an SELinux host qemu may read only files labelled for it (Fedora CoreOS docs: svirt_home_t).
      if (existsSync('/sys/fs/selinux/enforce')) await run(['chcon', '--type', 'svirt_home_t', ignitionPath(layout, spec.name)]);
      const xml = domainXml({
        name: spec.name,
        virtType,
        memoryMiB: spec.memoryMiB ?? 4096,
        cpus: spec.cpus ?? 2,
        bootDisk: boot,
        baseImage: spec.image.id,
        ...(spec.image.version ? { imageVersion: spec.image.version } : {}),
        ignitionPath: ignitionPath(layout, spec.name),
        ...(dataDisk ? { dataDisk } : {}),
        ...(network ? { network } : {}),
      });
      writeFileAtomic(domainXmlPath(layout, spec.name), xml, 0o644);
      await run(cmd.define(layout, domainXmlPath(layout, spec.name)));
      return mustDescribe(spec.name);
    },

    async startVm(name) {
      const vm = await mustDescribe(checkName('VM', name));
      if (vm.state === 'running') return vm;
      await run(cmd.start(layout, name));
      return mustDescribe(name);
    },

    async stopVm(name) {
      const vm = await mustDescribe(checkName('VM', name));
      if (vm.state === 'stopped') return vm;
      if (shutdownTimeoutSec > 0) {
        await tryRun(cmd.shutdown(layout, name));
        if (await waitForState(name, 'stopped', shutdownTimeoutSec)) return mustDescribe(name);
      }
      try {
        await run(cmd.destroy(layout, name));
      } catch (err) {
        // It may have stopped between the check and the call.
        if (!(err instanceof WrongStateError)) throw err;
      }
      if (!(await waitForState(name, 'stopped', 30))) throw new TimeoutError(`${name} did not stop`);
      return mustDescribe(name);
    },

    async destroyVm(name) {
      const vm = await describe(checkName('VM', name));
      if (vm) {
        if (vm.state !== 'stopped') await tryRun(cmd.destroy(layout, name)).catch(() => undefined);
        await run(cmd.undefine(layout, name));
      }
      // Only cnvm's per-VM files: the overlay, the Ignition config, the XML. Data volumes live elsewhere.
      rmSync(vmDir(layout, name), { recursive: true, force: true });
    },

    async attachVolume(vmName, volumeId) {
      const vm = await mustDescribe(checkName('VM', vmName));
      const name = volumeNameOf(volumeId);
      if (vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      const holder = await attachmentOf(volumeId);
      if (holder) throw new InUseError(`volume ${name} is attached to ${holder}; a volume is attached to one VM at a time`);
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before attaching a volume`);
      if (vm.volumes.length > 0) throw new InUseError(`${vmName} already has data volume ${vm.volumes[0]?.volumeId}`);
      await run(cmd.attachDisk(layout, vmName, volumeId, readVolumeMeta(name)?.deviceName ?? name.slice(0, 20)));
      return mustDescribe(vmName);
    },

    async detachVolume(vmName, volumeId) {
      const vm = await mustDescribe(checkName('VM', vmName));
      if (!vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before detaching a volume`);
      await run(cmd.detachDisk(layout, vmName, volumeId));
      return mustDescribe(vmName);
    },

    async list(): Promise<ListResult> {
      const vms: VmInfo[] = [];
      for (const name of await domainNames()) {
        const xml = await tryRun(cmd.dumpxml(layout, name));
        if (xml && parseDomainXml(xml).cnvm) {
          const vm = await describe(name);
          if (vm) vms.push(vm);
        }
      }
      const volumes: Volume[] = [];
      const dir = join(layout.storageDir, 'volumes');
      const names = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')).sort() : [];
      for (const f of names) {
        const meta = readVolumeMeta(f.replace(/\.json$/, ''));
        if (meta?.managedBy === 'cnvm' && existsSync(volumePath(layout, meta.name))) volumes.push(await volumeFromMeta(meta));
      }
      return { vms, volumes };
    },
  };
}

/**
 * The Ignition config may hold the PMM admin password: readable by root and by the group qemu runs in, nobody
 * else. Under qemu:///session qemu runs as the user, so 0600 suffices.
 */
function writeIgnition(path: string, text: string): void {
  const qemuGroup = process.getuid?.() === 0 ? qemuGroupId() : undefined;
  writeFileAtomic(path, text, qemuGroup === undefined ? 0o600 : 0o640, qemuGroup === undefined ? undefined : { uid: 0, gid: qemuGroup });
}

function qemuGroupId(): number | undefined {
  try {
    const line = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('libvirt-qemu:') || l.startsWith('kvm:'));
    const gid = line?.split(':')[2];
    return gid === undefined ? undefined : Number(gid);
  } catch {
    return undefined;
  }
}

/** virsh's messages → typed errors, the original text kept as the cause. */
function classify(argv: string[], message: string): ProviderError {
  const cause = new Error(message);
  const what = `${argv.slice(0, 4).join(' ')}…: ${message.split('\n')[0] ?? ''}`;
  if (/failed to get domain|Domain not found|no domain with matching name/i.test(message)) return new NotFoundError(what, { cause });
  if (/permission denied|access denied|authentication/i.test(message)) return new PermissionError(what, { cause });
  if (/is not running|already active|domain is already running|Requested operation is not valid/i.test(message)) return new WrongStateError(what, { cause });
  if (/timed out|timeout/i.test(message)) return new TimeoutError(what, { cause });
  return new ProviderError('failed', what, { cause });
}
