// The libvirt adapter: virsh and qemu-img through execa. Data volumes are raw files under
// <storageDir>/volumes/ with a small JSON sidecar (name, size, serial); VMs are persistent domains carrying
// cnvm's metadata namespace, each with <storageDir>/vms/<name>/ holding the qcow2 overlay of the base image, the
// Ignition config (handed to the guest through fw_cfg) and the domain XML cnvm defined. cnvm never writes into a
// data volume after `qemu-img create`.
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { defineProvider } from '../contract.js';
import { InUseError, NotFoundError, ProviderError, TimeoutError, WrongStateError } from '../errors.js';
import {
  bootDiskPath,
  checkName,
  cmd,
  consolePath,
  stableMac,
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
} from './commands.js';
import { fileLeases } from './lease.js';
import { offeredVirtTypes } from './capabilities.js';
import { storeFiles } from './files.js';
import { libvirtPlans } from './plan.js';
import { defaultStorageDir, defaultVirtType, freeLoopbackPort, virshRunner } from './virsh.js';
import { parseDacBaseLabel, qemuAccess, qemuIdentity } from './host.js';
import type { ListResult, Provider, VmInfo, Volume } from '../types.js';

export { parseDacBaseLabel, qemuAccess, qemuIdentity } from './host.js';
export { defaultStorageDir } from './virsh.js';

export interface LibvirtOptions {
  /** Connection URI: qemu:///system (default), qemu:///session, qemu+ssh://host/system. */
  uri?: string;
  /** Where volumes and VM files live (must be on the hypervisor host; remote URIs need a shared path). */
  storageDir?: string;
  /** libvirt network for new VMs; `null` for none; `user` for qemu's user-mode networking. Default: `default`. */
  network?: string | null;
  /** With `network: 'user'`: the port on 127.0.0.1 forwarded to PMM's 443 (default: a free one per VM). */
  forwardPort?: number;
  /** Default: kvm when libvirt offers it (virsh capabilities; KVM usable by qemu's user), else qemu (TCG). */
  virtType?: 'kvm' | 'qemu';
  /** Seconds to wait for an ACPI shutdown before forcing the VM off (0: force at once). */
  shutdownTimeoutSec?: number;
  /** Seconds any one virsh / qemu-img call may take before it fails with TimeoutError (default 120). */
  commandTimeoutSec?: number;
}

interface VolumeMeta {
  name: string;
  sizeGiB: number;
  deviceName: string;
  vmName?: string;
  /**
   * Which domain cnvm last attached it to (null: detached by cnvm). A hint that lets findVolume check one domain
   * instead of every domain on the host; checks before attaching or deleting always scan them all.
   */
  attachedTo?: string | null;
  managedBy: 'cnvm';
}

export function createLibvirtProvider(options: LibvirtOptions = {}): Provider {
  const uri = options.uri ?? 'qemu:///system';
  const layout: LibvirtLayout = { uri, storageDir: options.storageDir ?? defaultStorageDir(uri) };
  const userNet = options.network === 'user';
  const network = userNet ? undefined : options.network === undefined ? 'default' : (options.network ?? undefined);
  const shutdownTimeoutSec = options.shutdownTimeoutSec ?? 60;
  const commandTimeoutSec = options.commandTimeoutSec ?? 120;

  const plan = libvirtPlans(layout, shutdownTimeoutSec);
  const { run, tryRun } = virshRunner(uri, commandTimeoutSec);

  function readVolumeMeta(name: string): VolumeMeta | undefined {
    const path = volumeMetaPath(layout, name);
    if (!existsSync(path)) return undefined;
    return JSON.parse(readFileSync(path, 'utf8')) as VolumeMeta;
  }

  async function domainNames(): Promise<string[]> {
    return (await run(cmd.listAll(layout))).split('\n').map((s) => s.trim()).filter(Boolean);
  }

  /**
   * Every file-backed disk of every domain (cnvm's or not) → the domain using it: the domain definitions are the
   * only record of attachments. One `dumpxml` per domain, a few at a time.
   */
  async function attachments(): Promise<Map<string, string>> {
    const names = await domainNames();
    const xmls: (string | undefined)[] = [];
    for (let i = 0; i < names.length; i += 8) xmls.push(...(await Promise.all(names.slice(i, i + 8).map((n) => tryRun(cmd.dumpxml(layout, n))))));
    const map = new Map<string, string>();
    names.forEach((name, i) => {
      for (const d of parseDomainXml(xmls[i] ?? '').disks) if (!map.has(d.path)) map.set(d.path, name);
    });
    return map;
  }

  const attachmentOf = async (path: string): Promise<string | undefined> => (await attachments()).get(path);

  function setAttachedHint(volumeName: string, vm: string | null): void {
    const meta = readVolumeMeta(volumeName);
    if (meta) writeFileAtomic(volumeMetaPath(layout, volumeName), `${JSON.stringify({ ...meta, attachedTo: vm }, null, 2)}\n`, 0o600);
  }

  /** The hinted domain, verified with one dumpxml; without a usable hint, every domain. */
  async function hintedAttachment(meta: VolumeMeta, path: string): Promise<string | undefined> {
    if (meta.attachedTo === undefined) return attachmentOf(path);
    if (meta.attachedTo === null) return undefined;
    const xml = await tryRun(cmd.dumpxml(layout, meta.attachedTo));
    if (xml && parseDomainXml(xml).disks.some((d) => d.path === path)) return meta.attachedTo;
    return attachmentOf(path);
  }

  async function volumeFromMeta(meta: VolumeMeta, attached?: Map<string, string>): Promise<Volume> {
    const path = volumePath(layout, meta.name);
    const attachedTo = attached ? attached.get(path) : await hintedAttachment(meta, path);
    const sizeGiB = Math.round(statSync(path).size / 2 ** 30);
    return { id: path, name: meta.name, sizeGiB, deviceName: meta.deviceName, ...(attachedTo ? { attachedTo } : {}) };
  }

  function volumeNameOf(id: string): string {
    const name = id.startsWith(join(layout.storageDir, 'volumes') + '/') ? id.slice(id.lastIndexOf('/') + 1).replace(/\.img$/, '') : '';
    if (!name || !existsSync(id)) throw new NotFoundError(`volume ${id} is not one of cnvm's volumes in ${join(layout.storageDir, 'volumes')}`);
    return name;
  }

  async function describe(name: string, must = false): Promise<VmInfo | undefined> {
    let xml: string;
    try {
      xml = await run(cmd.dumpxml(layout, name));
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err;
      if (must) throw new NotFoundError(`no VM named ${name} on ${uri}`, { cause: err.cause });
      return undefined;
    }
    const parsed = parseDomainXml(xml);
    if (!parsed.cnvm) throw new ProviderError('invalid', `domain ${name} exists but was not created by cnvm; refusing to manage it`);
    const state = parseDomState((await tryRun(cmd.domstate(layout, name))) ?? '');
    const volumes = parsed.disks
      .filter((d) => d.path.startsWith(join(layout.storageDir, 'volumes') + '/'))
      .map((d) => ({ volumeId: d.path, deviceName: d.serial ?? '' }));
    // User-mode networking: PMM is reached through the port forwarded to the host's loopback.
    const addresses =
      state !== 'running' ? [] : parsed.forward ? [`${parsed.forward.address}:${parsed.forward.port}`] : network ? parseDomIfAddr((await tryRun(cmd.domifaddr(layout, name))) ?? '') : [];
    return { name, id: name, state, image: parsed.image, volumes, addresses, ...(parsed.owner ? { owner: parsed.owner } : {}), ...(parsed.record ? { record: parsed.record } : {}) };
  }

  async function mustDescribe(name: string): Promise<VmInfo> {
    const vm = await describe(name, true);
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

  interface HostInfo {
    virtType: 'kvm' | 'qemu';
    /** Who qemu runs as; undefined: as us (session URIs) or unknown. */
    qemu: { uid: number; gid: number } | undefined;
  }
  let hostCache: Promise<HostInfo> | undefined;
  /** Asked of libvirt once: whether it offers KVM, and its DAC label for qemu; else local guesses. */
  function hostInfo(): Promise<HostInfo> {
    hostCache ??= run(cmd.capabilities(layout)).then(
      (caps) => {
        const virtType = options.virtType ?? (offeredVirtTypes(caps).includes('kvm') ? 'kvm' : 'qemu');
        return { virtType, qemu: uri.includes('/session') ? undefined : (parseDacBaseLabel(caps, virtType) ?? qemuIdentity()) };
      },
      () => ({ virtType: options.virtType ?? defaultVirtType(), qemu: uri.includes('/session') ? undefined : qemuIdentity() }),
    );
    return hostCache;
  }

  const { privateDir, stageBaseImage, writeIgnition } = storeFiles(layout, run);

  return defineProvider({
    addressing: { kind: 'implicit', describe: 'one MAC for every generation (the same DHCP lease); with --network user, the same forwarded port' },
    name: 'libvirt',
    leases: fileLeases(layout.storageDir, async (path) => privateDir(path, qemuAccess((await hostInfo()).qemu))),
    plan,

    async findVolume(name) {
      const meta = readVolumeMeta(checkName('volume', name));
      return meta && existsSync(volumePath(layout, name)) ? volumeFromMeta(meta) : undefined;
    },

    async createVolume(spec) {
      if (!Number.isInteger(spec.sizeGiB) || spec.sizeGiB < 1) throw new ProviderError('invalid', `volume size must be a whole number of GiB ≥ 1, got ${spec.sizeGiB}`);
      if (!/^[A-Za-z0-9_.-]{1,20}$/.test(spec.deviceName)) throw new ProviderError('invalid', `virtio serial ${JSON.stringify(spec.deviceName)} must be 1-20 characters of [A-Za-z0-9_.-]`);
      const path = volumePath(layout, spec.name);
      // PMM's databases (and the credentials of what it monitors) live here: root and, while a VM runs, qemu only.
      // The directory lets qemu's group through without listing; libvirt hands each file to qemu's user when a VM
      // starts and back when it stops.
      privateDir(dirname(path), qemuAccess((await hostInfo()).qemu));
      if (!existsSync(path)) {
        await run(cmd.createVolume(path, spec.sizeGiB));
        chmodSync(path, 0o600);
      }
      const meta: VolumeMeta = { name: spec.name, sizeGiB: spec.sizeGiB, deviceName: spec.deviceName, ...(spec.vmName ? { vmName: spec.vmName } : {}), managedBy: 'cnvm' };
      writeFileAtomic(volumeMetaPath(layout, spec.name), `${JSON.stringify(meta, null, 2)}\n`, 0o600);
      return volumeFromMeta(meta);
    },

    holderOf: (volumeId) => attachmentOf(volumeId),

    async consoleOutput(name) {
      const path = consolePath(layout, checkName('VM', name));
      return existsSync(path) ? readFileSync(path, 'latin1') : undefined;
    },

    async replaceIgnition(name, ignition) {
      await mustDescribe(checkName('VM', name)); // a cnvm VM on this host, or NotFoundError
      const path = ignitionPath(layout, name);
      const current = statSync(path, { throwIfNoEntry: false });
      const qemu = qemuAccess((await hostInfo()).qemu);
      // qemu read the file when the VM started, so a running VM is unaffected; the next start reads the new one, and
      // Ignition, which runs on the first boot only, never applies it.
      await writeIgnition(name, ignition, current ? current.mode & 0o7777 : qemu.fileMode, current ? { uid: current.uid, gid: current.gid } : qemu.owner);
      return 'replaced';
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

    async preflight(spec) {
      checkName('VM', spec.name);
      if (!existsSync(spec.image.id)) throw new NotFoundError(`base image ${spec.image.id} does not exist (--image)`);
      if (network) {
        // (`user` needs no libvirt network: qemu's own user-mode stack.)
        const info = await tryRun(cmd.netInfo(layout, network));
        if (info === undefined) throw new NotFoundError(`libvirt network ${network} does not exist on ${uri}; pick another (--network NAME) or none (--network none)`);
        if (!/^Active:\s+yes/m.test(info)) throw new WrongStateError(`libvirt network ${network} is not active; start it (virsh -c ${uri} net-start ${network}) or use another network (--network NAME|none)`);
      }
    },

    async createVm(spec) {
      checkName('VM', spec.name);
      if (!existsSync(spec.image.id)) throw new NotFoundError(`base image ${spec.image.id} does not exist`);
      let dataDisk: { path: string; serial: string } | undefined;
      if (spec.dataVolumeId) {
        // "On at most one VM" is checked by the contract wrapper (contract.ts) before this runs.
        const name = volumeNameOf(spec.dataVolumeId);
        dataDisk = { path: spec.dataVolumeId, serial: readVolumeMeta(name)?.deviceName ?? name.slice(0, 20) };
      }
      const dir = vmDir(layout, spec.name);
      const host = await hostInfo();
      const qemu = qemuAccess(host.qemu);
      // The VM directory holds the Ignition config (secrets): no access for others; qemu's group may traverse it.
      privateDir(dirname(dir), qemu);
      privateDir(dir, qemu);
      const boot = bootDiskPath(layout, spec.name);
      if (!existsSync(boot)) {
        await run(cmd.createOverlay(await stageBaseImage(spec.image.id, qemu), boot));
        chmodSync(boot, 0o600);
      }
      await writeIgnition(spec.name, spec.ignition, qemu.fileMode, qemu.owner);
      const xml = domainXml({
        name: spec.name,
        virtType: host.virtType,
        memoryMiB: spec.memoryMiB ?? 4096,
        cpus: spec.cpus ?? 2,
        bootDisk: boot,
        baseImage: spec.image.id,
        ...(spec.image.version ? { imageVersion: spec.image.version } : {}),
        ...(spec.owner ? { owner: spec.owner } : {}),
        ...(spec.record ? { record: spec.record } : {}),
        ignitionPath: ignitionPath(layout, spec.name),
        ...(dataDisk ? { dataDisk } : {}),
        ...(network ? { network, mac: stableMac(layout, spec.owner?.name ?? spec.name) } : {}),
        ...(userNet ? { userNetForward: options.forwardPort ?? (await freeLoopbackPort()) } : {}),
        consoleLog: consolePath(layout, spec.name),
      });
      writeFileAtomic(domainXmlPath(layout, spec.name), xml, 0o600); // virsh reads it as the caller
      await run(cmd.define(layout, domainXmlPath(layout, spec.name)));
      if (spec.dataVolumeId) setAttachedHint(volumeNameOf(spec.dataVolumeId), spec.name);
      return mustDescribe(spec.name);
    },

    async startVm(name) {
      await mustDescribe(checkName('VM', name)); // NotFoundError for a missing one
      try {
        await run(cmd.start(layout, name));
      } catch (err) {
        const net = /network '([^']+)' is not active/.exec(String((err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : ''))?.[1];
        if (net) throw new WrongStateError(`cannot start ${name}: libvirt network ${net} is not active; start it (virsh -c ${uri} net-start ${net}) or use another network (--network NAME|none)`, { cause: (err as Error).cause });
        throw err;
      }
      // Some hosts offer a KVM that cannot run a stock guest (kvm_pvm): the domain dies or halts at once.
      if ((await hostInfo()).virtType === 'kvm' && (await new Promise((r) => setTimeout(r, 1000)), !(await waitForState(name, 'running', 0)))) {
        throw new WrongStateError(`${name} stopped right after starting under KVM; this host's KVM may not run this guest: try --virt-type qemu (TCG)`);
      }
      return mustDescribe(name);
    },

    async stopVm(name, how = {}) {
      await mustDescribe(checkName('VM', name));
      if (shutdownTimeoutSec > 0 && !how.force) {
        await tryRun(cmd.shutdown(layout, name));
        if (await waitForState(name, 'stopped', shutdownTimeoutSec)) return mustDescribe(name);
        how.notice?.onForced?.(`virsh destroy: the guest had not shut down ${shutdownTimeoutSec} s after virsh shutdown`);
      }
      if (how.force) how.notice?.onForced?.(`virsh destroy: ${name} has never booted with its data volume`);
      try {
        await run(cmd.destroy(layout, name));
      } catch (err) {
        // It may have stopped between the check and the call.
        if (!(err instanceof WrongStateError)) throw err;
      }
      if (!(await waitForState(name, 'stopped', 30))) throw new TimeoutError(`${name} did not stop`);
      return mustDescribe(name);
    },

    async destroyVm(name, opts = {}) {
      const vm = await describe(checkName('VM', name));
      if (vm) {
        if (vm.state !== 'stopped') await tryRun(cmd.destroy(layout, name)).catch(() => undefined);
        await run(cmd.undefine(layout, name));
        for (const v of vm.volumes) if (existsSync(v.volumeId)) setAttachedHint(volumeNameOf(v.volumeId), null);
      }
      // Only cnvm's per-VM files: the overlay, the Ignition config, the XML. Data volumes live elsewhere.
      if (opts.deleteBootDisk !== false) rmSync(vmDir(layout, name), { recursive: true, force: true });
    },

    async attachVolume(vmName, volumeId) {
      const vm = await mustDescribe(checkName('VM', vmName));
      const name = volumeNameOf(volumeId);
      // One data disk per domain: it is always target vdb.
      if (vm.volumes.length > 0) throw new InUseError(`${vmName} already has data volume ${vm.volumes[0]?.volumeId}`);
      await run(cmd.attachDisk(layout, vmName, volumeId, readVolumeMeta(name)?.deviceName ?? name.slice(0, 20)));
      setAttachedHint(name, vmName);
      return mustDescribe(vmName);
    },

    async detachVolume(vmName, volumeId) {
      await mustDescribe(checkName('VM', vmName));
      await run(cmd.detachDisk(layout, vmName, volumeId));
      setAttachedHint(volumeNameOf(volumeId), null);
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
      const attached = names.length > 0 ? await attachments() : new Map<string, string>();
      for (const f of names) {
        const meta = readVolumeMeta(f.replace(/\.json$/, ''));
        if (meta?.managedBy === 'cnvm' && existsSync(volumePath(layout, meta.name))) volumes.push(await volumeFromMeta(meta, attached));
      }
      return { vms, volumes };
    },
  });
}

