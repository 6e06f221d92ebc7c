// The libvirt adapter's pure parts: domain XML, virsh / qemu-img argv, parsers of virsh output, the plans that
// --dry-run prints, and how qemu's user is found. No libvirt needed.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotFoundError, PermissionError, ProviderError, TimeoutError } from '../../src/provider/errors.js';
import { createLibvirtProvider, parseDacBaseLabel, qemuAccess, qemuIdentity } from '../../src/provider/libvirt/adapter.js';
import { offeredVirtTypes } from '../../src/provider/libvirt/capabilities.js';
import {
  baseImagePath,
  bootDiskPath,
  checkName,
  cmd,
  domainXml,
  ignitionPath,
  parseDomainXml,
  parseDomIfAddr,
  parseDomState,
  stableMac,
  volumePath,
  type DomainSettings,
} from '../../src/provider/libvirt/commands.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/provider', import.meta.url));
const layout = { uri: 'qemu:///system', storageDir: '/var/lib/cnvm/libvirt' };

const pmm1: DomainSettings = {
  name: 'pmm1',
  virtType: 'kvm',
  memoryMiB: 4096,
  cpus: 2,
  bootDisk: '/var/lib/cnvm/libvirt/vms/pmm1/boot.qcow2',
  baseImage: '/root/.cache/cnvm/images/fedora-coreos-43.20261110.3.0-qemu.x86_64.qcow2',
  imageVersion: '43.20261110.3.0',
  ignitionPath: '/var/lib/cnvm/libvirt/vms/pmm1/config.ign',
  dataDisk: { path: '/var/lib/cnvm/libvirt/volumes/pmm1-data.img', serial: 'pmm-data' },
  network: 'default',
  mac: '52:54:00:12:34:56',
  consoleLog: '/var/lib/cnvm/libvirt/vms/pmm1/console.log',
  owner: { name: 'pmm1', generation: 1 },
};

describe('domain XML', () => {
  it('is exactly the committed definition (q35, virtio disks, serial console, fw_cfg Ignition)', () => {
    expect(domainXml(pmm1)).toBe(readFileSync(join(FIXTURES, 'domain-pmm1.xml'), 'utf8'));
  });

  it('gives every generation of a VM the same MAC, other VMs another', () => {
    expect(stableMac(layout, 'pmm1')).toMatch(/^52:54:00(:[0-9a-f]{2}){3}$/);
    expect(stableMac(layout, 'pmm1')).toBe(stableMac(layout, 'pmm1'));
    expect(stableMac(layout, 'pmm2')).not.toBe(stableMac(layout, 'pmm1'));
    expect(stableMac({ ...layout, storageDir: '/elsewhere' }, 'pmm1')).not.toBe(stableMac(layout, 'pmm1'));
  });

  it('with --network user: no libvirt network, PMM forwarded to 127.0.0.1, read back as the endpoint', () => {
    const { network: _network, mac: _mac, ...rest } = pmm1;
    const xml = domainXml({ ...rest, userNetForward: 18443 });
    expect(xml).not.toContain('<interface');
    expect(xml).toContain('<qemu:arg value="user,id=cnvmnet0,hostfwd=tcp:127.0.0.1:18443-:443"/>');
    expect(parseDomainXml(xml).forward).toEqual({ address: '127.0.0.1', port: 18443 });
  });

  it('hands Ignition to the guest through fw_cfg, commas in the path doubled for qemu', () => {
    const xml = domainXml({ ...pmm1, ignitionPath: '/s/vms/pmm1/config,1.ign' });
    expect(xml).toContain('<qemu:arg value="-fw_cfg"/>');
    expect(xml).toContain('<qemu:arg value="name=opt/com.coreos/config,file=/s/vms/pmm1/config,,1.ign"/>');
  });

  it('gives the data disk its serial so the guest sees /dev/disk/by-id/virtio-<serial>', () => {
    expect(parseDomainXml(domainXml(pmm1))).toEqual({
      cnvm: true,
      image: pmm1.baseImage,
      disks: [
        { path: pmm1.bootDisk, target: 'vda' },
        { path: '/var/lib/cnvm/libvirt/volumes/pmm1-data.img', target: 'vdb', serial: 'pmm-data' },
      ],
      owner: { name: 'pmm1', generation: 1 },
    });
  });

  it('leaves out what is not asked for, and uses TCG without host-passthrough', () => {
    const xml = domainXml({ ...pmm1, virtType: 'qemu', dataDisk: undefined, network: undefined, imageVersion: undefined });
    expect(xml.startsWith('<domain type="qemu"')).toBe(true);
    expect(xml).not.toContain('host-passthrough');
    expect(xml).not.toContain('<interface');
    expect(xml).not.toContain('<serial>');
    expect(xml).not.toContain('image-version');
    expect(parseDomainXml(xml).disks).toHaveLength(1);
  });

  it('escapes XML in names and paths, and reads them back', () => {
    const xml = domainXml({ ...pmm1, bootDisk: "/s/it's & <odd>.qcow2" });
    expect(xml).toContain('<source file="/s/it&apos;s &amp; &lt;odd&gt;.qcow2"/>');
    expect(parseDomainXml(xml).disks[0]?.path).toBe("/s/it's & <odd>.qcow2");
    const record = JSON.stringify({ note: `a "quoted" <record> & 'more'` });
    expect(parseDomainXml(domainXml({ ...pmm1, record, owner: { name: 'a&b', generation: 7 } }))).toMatchObject({ record, owner: { name: 'a&b', generation: 7 } });
  });

  it('tells domains cnvm did not define from its own', () => {
    const foreign = "<domain type='kvm'><name>web</name><devices><disk type='file' device='disk'><source file='/x.img'/><target dev='vda' bus='virtio'/></disk></devices></domain>";
    expect(parseDomainXml(foreign)).toEqual({ cnvm: false, image: '', disks: [{ path: '/x.img', target: 'vda' }] });
  });
});

describe('virsh and qemu-img argv', () => {
  it('creates volumes as raw files and boot disks as qcow2 overlays', () => {
    expect(cmd.createVolume('/v/a.img', 20)).toEqual(['qemu-img', 'create', '-q', '-f', 'raw', '/v/a.img', '20G']);
    expect(cmd.createOverlay('/b.qcow2', '/o.qcow2')).toEqual(['qemu-img', 'create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', '/b.qcow2', '/o.qcow2']);
  });

  it('attaches and detaches in the persistent definition only, with the serial', () => {
    expect(cmd.attachDisk(layout, 'pmm1', '/v/a.img', 'pmm-data')).toEqual([
      'virsh', '-c', 'qemu:///system', 'attach-disk', 'pmm1', '/v/a.img', 'vdb', '--config', '--targetbus', 'virtio', '--driver', 'qemu', '--subdriver', 'raw', '--serial', 'pmm-data',
    ]);
    expect(cmd.detachDisk(layout, 'pmm1', '/v/a.img')).toEqual(['virsh', '-c', 'qemu:///system', 'detach-disk', 'pmm1', '/v/a.img', '--config']);
    expect(cmd.define({ ...layout, uri: 'qemu+ssh://h/system' }, '/d.xml')).toEqual(['virsh', '-c', 'qemu+ssh://h/system', 'define', '--validate', '/d.xml']);
  });

  it('lays files out under the storage directory and refuses names that could escape it', () => {
    expect(volumePath(layout, 'pmm1-data')).toBe('/var/lib/cnvm/libvirt/volumes/pmm1-data.img');
    expect(bootDiskPath(layout, 'pmm1')).toBe('/var/lib/cnvm/libvirt/vms/pmm1/boot.qcow2');
    expect(ignitionPath(layout, 'pmm1')).toBe('/var/lib/cnvm/libvirt/vms/pmm1/config.ign');
    expect(baseImagePath(layout, 'abc', '/c/fcos-43.qcow2')).toBe('/var/lib/cnvm/libvirt/images/fcos-43-abc.qcow2');
    for (const bad of ['../etc', 'a/b', 'Pmm', '', '-x', 'a'.repeat(64)]) expect(() => checkName('VM', bad)).toThrow(/invalid VM name/);
    expect(checkName('VM', 'pmm-1')).toBe('pmm-1');
  });
});

describe('virsh output', () => {
  it('maps domain states to the provider-neutral ones', () => {
    expect(parseDomState('shut off\n')).toBe('stopped');
    expect(parseDomState('crashed')).toBe('stopped');
    expect(parseDomState('running')).toBe('running');
    expect(parseDomState('paused')).toBe('running');
    expect(parseDomState('in shutdown')).toBe('stopping');
    expect(parseDomState('pmsuspended')).toBe('unknown');
  });

  it('reads addresses from domifaddr', () => {
    const table = [
      ' Name       MAC address          Protocol     Address',
      '-------------------------------------------------------------------------------',
      ' vnet0      52:54:00:aa:bb:cc    ipv4         192.168.122.45/24',
      ' -          -                    ipv6         fd00::5054:ff:feaa:bbcc/64',
      '',
    ].join('\n');
    expect(parseDomIfAddr(table)).toEqual(['192.168.122.45', 'fd00::5054:ff:feaa:bbcc']);
    expect(parseDomIfAddr('')).toEqual([]);
  });
});

describe('qemu identity (who must read the Ignition config)', () => {
  it("follows qemu.conf's user and group", () => {
    expect(qemuIdentity(join(FIXTURES, 'qemu.conf'), join(FIXTURES, 'passwd'), join(FIXTURES, 'group'))).toEqual({ uid: 990, gid: 992 });
  });

  it("defaults to Debian's libvirt-qemu and its own group, as libvirt does", () => {
    expect(qemuIdentity('/nonexistent/qemu.conf', join(FIXTURES, 'passwd'), join(FIXTURES, 'group'))).toEqual({ uid: 64055, gid: 64055 });
  });

  it("prefers libvirt's own answer: the DAC base label in virsh capabilities", () => {
    const host = (secmodels: string): string => `<capabilities><host><uuid>x</uuid>${secmodels}</host></capabilities>`;
    const apparmor = '<secmodel><model>apparmor</model><doi>0</doi></secmodel>';
    const caps = host(`${apparmor}<secmodel><model>dac</model><doi>0</doi><baselabel type='kvm'>+64055:+64055</baselabel><baselabel type='qemu'>+107:+108</baselabel></secmodel>`);
    expect(parseDacBaseLabel(caps, 'kvm')).toEqual({ uid: 64055, gid: 64055 });
    expect(parseDacBaseLabel(caps, 'qemu')).toEqual({ uid: 107, gid: 108 });
    expect(parseDacBaseLabel(host('<secmodel><model>none</model></secmodel>'), 'kvm')).toBeUndefined();
    expect(parseDacBaseLabel('not xml <', 'kvm')).toBeUndefined();
  });

  it('reads the virtualisation types offered for x86_64 guests from virsh capabilities', () => {
    const guest = (arch: string, types: string[]): string => `<guest><os_type>hvm</os_type><arch name='${arch}'><wordsize>64</wordsize>${types.map((t) => `<domain type='${t}'/>`).join('')}</arch></guest>`;
    expect(offeredVirtTypes(`<capabilities><host/>${guest('i686', ['qemu', 'kvm'])}${guest('x86_64', ['qemu', 'kvm'])}</capabilities>`)).toEqual(['qemu', 'kvm']);
    expect(offeredVirtTypes(`<capabilities><host/>${guest('x86_64', ['qemu'])}${guest('aarch64', ['qemu', 'kvm'])}</capabilities>`)).toEqual(['qemu']);
  });

  it('shares the config with qemu only as far as needed', () => {
    const me = process.getuid?.() ?? 0;
    expect(qemuAccess(undefined)).toEqual({ dirMode: 0o700, fileMode: 0o600 });
    expect(qemuAccess({ uid: me, gid: 1 })).toEqual({ dirMode: 0o700, fileMode: 0o600 });
    if (me === 0) expect(qemuAccess({ uid: 64055, gid: 64055 })).toEqual({ owner: { uid: 0, gid: 64055 }, dirMode: 0o710, fileMode: 0o640 });
  });

  it('knows nothing when there is no qemu user', () => {
    expect(qemuIdentity('/nonexistent/qemu.conf', '/nonexistent/passwd', '/nonexistent/group')).toBeUndefined();
  });
});

describe('plans (what --dry-run prints)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-plan-'));
  const storageDir = join(dir, 'store');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const p = createLibvirtProvider({ uri: 'qemu:///system', storageDir, network: null, shutdownTimeoutSec: 30 });

  it('lists every command of every operation and touches nothing', () => {
    const spec = { name: 'pmm1', image: { id: '/c/fcos.qcow2' }, ignition: '{}', dataVolumeId: join(storageDir, 'volumes/pmm1-data.img') };
    const create = p.plan.createVm(spec);
    expect(create.map((a) => a.action)).toEqual(['copy', 'qemu-img create', 'write', 'write', 'virsh define']);
    expect(create[4]?.detail).toEqual(['virsh', '-c', 'qemu:///system', 'define', '--validate', join(storageDir, 'vms/pmm1/domain.xml')]);
    expect(p.plan.createVolume({ name: 'pmm1-data', sizeGiB: 20, deviceName: 'pmm-data' })[0]?.detail).toEqual(cmd.createVolume(join(storageDir, 'volumes/pmm1-data.img'), 20));
    expect(p.plan.stopVm('pmm1').map((a) => a.action)).toEqual(['virsh shutdown', 'virsh destroy']);
    expect(p.plan.destroyVm('pmm1').map((a) => a.action)).toEqual(['virsh destroy', 'virsh undefine', 'remove']);
    expect(p.plan.destroyVm('pmm1', { deleteBootDisk: false }).map((a) => a.action)).toEqual(['virsh destroy', 'virsh undefine']);
    expect(p.plan.attachVolume('pmm1', '/v.img')[0]?.action).toBe('virsh attach-disk');
    expect(p.plan.detachVolume('pmm1', '/v.img')[0]?.action).toBe('virsh detach-disk');
    expect(p.plan.startVm('pmm1')[0]?.detail).toEqual(cmd.start({ uri: 'qemu:///system', storageDir }, 'pmm1'));
    expect(p.plan.deleteVolume('/v.img')[0]?.effect).toMatch(/delete/);
    expect(existsSync(storageDir)).toBe(false);
  });

  it('forces off at once when the shutdown timeout is 0', () => {
    const hard = createLibvirtProvider({ storageDir, shutdownTimeoutSec: 0 });
    expect(hard.plan.stopVm('pmm1').map((a) => a.action)).toEqual(['virsh destroy']);
  });
});

describe('virsh failures become typed errors (a stand-in virsh on PATH)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-fakevirsh-'));
  const path = process.env.PATH;
  /** The stand-in answers `domstate`/`dumpxml` with whatever $FAKE_VIRSH says; `sleep` hangs. */
  writeFileSync(
    join(dir, 'virsh'),
    ['#!/bin/sh', 'case "$FAKE_VIRSH" in', '  sleep) exec sleep 600 ;;', '  *) printf "%b\\n" "$FAKE_VIRSH" >&2; exit 1 ;;', 'esac', ''].join('\n'),
    { mode: 0o755 },
  );
  beforeAll(() => {
    process.env.PATH = `${dir}:${path}`;
  });
  afterAll(() => {
    process.env.PATH = path;
    delete process.env.FAKE_VIRSH;
    rmSync(dir, { recursive: true, force: true });
  });
  const p = createLibvirtProvider({ storageDir: join(dir, 'store'), commandTimeoutSec: 1 });
  const failWith = async (stderr: string): Promise<Error> => {
    process.env.FAKE_VIRSH = stderr;
    return (await p.startVm('pmm1').catch((e: unknown) => e)) as Error;
  };

  it('maps libvirt messages to NotFound / Permission / WrongState, keeping the message as the cause', async () => {
    const notFound = await failWith("error: failed to get domain 'pmm1'");
    expect(notFound).toBeInstanceOf(NotFoundError);
    expect(notFound.message).toMatch(/no VM named pmm1/);
    expect((notFound.cause as Error).message).toBe("error: failed to get domain 'pmm1'");
    const denied = await failWith('error: failed to connect to the hypervisor\nerror: authentication unavailable: no polkit agent available to authenticate action');
    expect(denied).toBeInstanceOf(PermissionError);
    expect(denied.message).toContain('failed to connect to the hypervisor: authentication unavailable');
    expect((denied.cause as Error).message).toContain('no polkit agent');
    const other = await failWith('error: internal error: something odd');
    expect(other).toBeInstanceOf(ProviderError);
    expect((other as ProviderError).code).toBe('failed');
  });

  // The stand-in hangs for ten minutes: only cnvm's own 1 s command timeout can end this within the test's limit.
  it('gives up on a virsh that does not answer with TimeoutError', async () => {
    expect(await failWith('sleep')).toBeInstanceOf(TimeoutError);
  }, 30_000);
});
