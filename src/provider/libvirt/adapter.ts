// The libvirt adapter: virsh and qemu-img through execa. Data volumes are raw files under
// <storageDir>/volumes/ with a small JSON sidecar (name, size, serial); VMs are persistent domains carrying
// cnvm's metadata namespace, each with <storageDir>/vms/<name>/ holding the qcow2 overlay of the base image, the
// Ignition config (handed to the guest through fw_cfg) and the domain XML cnvm defined. cnvm never writes into a
// data volume after `qemu-img create`.
import { createHash } from 'node:crypto';
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { defineProvider } from '../contract.js';
import { InUseError, NotFoundError, PermissionError, ProviderError, TimeoutError, WrongStateError } from '../errors.js';
import {
  baseImagePath,
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
import { parseDacBaseLabel, qemuAccess, qemuIdentity, type QemuAccess } from './host.js';
import type { DestroyVmOptions, ListResult, PlannedAction, Provider, VmInfo, VmSpec, Volume, VolumeSpec } from '../types.js';

export { parseDacBaseLabel, qemuAccess, qemuIdentity } from './host.js';

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

/** A port on 127.0.0.1 nothing listens on now (the kernel's choice), for user-mode networking's forward. */
async function freeLoopbackPort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
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

  async function run(argv: string[]): Promise<string> {
    const { execa } = await import('execa');
    const [file, ...args] = argv as [string, ...string[]];
    const result = await execa(file, args, { reject: false, stdin: 'ignore', timeout: commandTimeoutSec * 1000 });
    if (result.timedOut) throw new TimeoutError(`${argv.slice(0, 4).join(' ')}… did not finish within ${commandTimeoutSec} s (is libvirtd answering on ${uri}?)`);
    if ((result as { code?: string }).code === 'ENOENT') throw new ProviderError('failed', `${file} is not installed (Debian: apt-get install libvirt-clients qemu-utils)`);
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
        const virtType = options.virtType ?? (/<domain type='kvm'/.test(caps) ? 'kvm' : 'qemu');
        return { virtType, qemu: uri.includes('/session') ? undefined : (parseDacBaseLabel(caps, virtType) ?? qemuIdentity()) };
      },
      () => ({ virtType: options.virtType ?? defaultVirtType(), qemu: uri.includes('/session') ? undefined : qemuIdentity() }),
    );
    return hostCache;
  }

  /**
   * A directory of the store that qemu must traverse but nobody else may read: 0710 root:<qemu's group> (0700 when
   * qemu runs as the caller), created or corrected on every use.
   */
  function privateDir(path: string, qemu: QemuAccess): void {
    if (!existsSync(layout.storageDir)) {
      // Parents (/var/lib/cnvm) stay traversable for qemu; the store itself is made private once, when cnvm creates
      // it (a directory the user made and named with --storage-dir is left as they set it).
      mkdirSync(dirname(layout.storageDir), { recursive: true, mode: 0o755 });
      mkdirSync(layout.storageDir, { mode: 0o700 });
      if (qemu.owner) chownSync(layout.storageDir, qemu.owner.uid, qemu.owner.gid);
      chmodSync(layout.storageDir, qemu.dirMode);
    }
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (qemu.owner) chownSync(path, qemu.owner.uid, qemu.owner.gid);
    chmodSync(path, qemu.dirMode);
  }

  /**
   * The overlay's backing file, kept under <storageDir>/images/: qemu (another user under qemu:///system) cannot
   * read a cache in root's 0700 home, and a cleared cache must not break existing boot disks. Always a copy of its
   * own (a reflink where the file system offers one, else a full copy, once per source file): libvirt chowns every
   * image of a running VM's backing chain to qemu's user, and a hard link would hand the user's own file over with
   * it. The name carries the source file's identity, so a changed source never reuses a stale copy.
   */
  async function stageBaseImage(source: string, qemu: QemuAccess): Promise<string> {
    const imagesDir = join(layout.storageDir, 'images');
    if (dirname(source) === imagesDir) return source;
    const st = statSync(source);
    const id = createHash('sha256').update(`${realpathSync(source)}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 12);
    const target = baseImagePath(layout, id, source);
    const staged = statSync(target, { throwIfNoEntry: false });
    // A hard link left by an older cnvm shares the user's inode: replace it with a copy (same bytes, same path).
    if (staged && !(staged.dev === st.dev && staged.ino === st.ino)) return target;
    privateDir(imagesDir, qemu);
    const tmp = join(imagesDir, `.${basename(target)}.${process.pid}.tmp`);
    try {
      await copyFile(source, tmp, constants.COPYFILE_FICLONE);
      if (qemu.owner) chownSync(tmp, qemu.owner.uid, qemu.owner.gid);
      chmodSync(tmp, qemu.fileMode);
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new ProviderError('failed', `cannot copy base image ${source} into ${imagesDir}: ${(err as Error).message}`, { cause: err });
    }
    return target;
  }

  /** The fw_cfg file qemu reads at start, replaced atomically; SELinux hosts need qemu's label on the new inode. */
  async function writeIgnition(name: string, ignition: string, mode: number, owner: { uid: number; gid: number } | undefined): Promise<void> {
    writeFileAtomic(ignitionPath(layout, name), ignition, mode, owner);
    // On an SELinux host qemu may read only files labelled for it (Fedora CoreOS docs: svirt_home_t).
    if (existsSync('/sys/fs/selinux/enforce')) await run(['chcon', '--type', 'svirt_home_t', ignitionPath(layout, name)]);
  }

  const plan = {
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

  return defineProvider({
    addressing: { kind: 'implicit', describe: 'one MAC for every generation (the same DHCP lease); with --network user, the same forwarded port' },
    name: 'libvirt',
    leases: fileLeases(layout.storageDir),
    // virtio disk with <serial>: /dev/disk/by-id/virtio-<serial>.
    dataDisk: (volume) => ({ provider: 'libvirt', serial: volume.deviceName }),
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
      const existing = await describe(checkName('VM', spec.name));
      if (existing) return existing;
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
      const vm = await mustDescribe(checkName('VM', name));
      if (vm.state === 'running') return vm;
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
      if (vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before attaching a volume`);
      if (vm.volumes.length > 0) throw new InUseError(`${vmName} already has data volume ${vm.volumes[0]?.volumeId}`);
      await run(cmd.attachDisk(layout, vmName, volumeId, readVolumeMeta(name)?.deviceName ?? name.slice(0, 20)));
      setAttachedHint(name, vmName);
      return mustDescribe(vmName);
    },

    async detachVolume(vmName, volumeId) {
      const vm = await mustDescribe(checkName('VM', vmName));
      if (!vm.volumes.some((v) => v.volumeId === volumeId)) return vm;
      if (vm.state !== 'stopped') throw new WrongStateError(`${vmName} is ${vm.state}: stop it before detaching a volume`);
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

/** virsh's messages → typed errors, the original text kept as the cause. */
function classify(argv: string[], message: string): ProviderError {
  const cause = new Error(message);
  // virsh says "error: Failed to start domain 'x'" first and the reason on the next error line: keep both.
  const errors = message.split('\n').map((l) => l.replace(/^error:\s*/, '').trim()).filter(Boolean);
  const what = `${argv.slice(0, 4).join(' ')}…: ${errors.slice(0, 3).join(': ')}`;
  if (/failed to get domain|Domain not found|no domain with matching name/i.test(message)) return new NotFoundError(what, { cause });
  if (/permission denied|access denied|authentication/i.test(message)) return new PermissionError(what, { cause });
  if (/is not running|already active|domain is already running|Requested operation is not valid/i.test(message)) return new WrongStateError(what, { cause });
  if (/timed out|timeout/i.test(message)) return new TimeoutError(what, { cause });
  return new ProviderError('failed', what, { cause });
}
