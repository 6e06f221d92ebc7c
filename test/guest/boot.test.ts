// Real first boots: cnvm's PMM recipe, rendered by its own translator, applied by Debian's real Ignition 2.14 in
// the test guest's initramfs, PMM's units run by systemd and podman, the PMM stand-in answering on a port
// forwarded to 127.0.0.1. One data disk goes through four VMs in order, as an upgrade and a rollback would use it:
//   A  fresh disk: Ignition partitions and formats it, the password cnvm chose is set once
//   B  another image, same disk: Ignition reuses partition and filesystem, data and password untouched
//      then the same VM restarted: no Ignition (ignition.firstboot is gone), PMM back with the same data
//   C  an image whose PMM never becomes ready: it answers, but readyz stays 503; the data is still untouched
//   a config wanting another filesystem label: Ignition refuses, says so on the console, the disk is unchanged
// Slow (TCG boots, 1-4 min each): run with `npm run test:guest`. Timeouts are generous; nothing asserts on time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, fcos } from '../../src/builders/index.js';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { pmmAdminPasswordFile, pmmServer, randomPassword, PMM_HEALTH_PATH } from '../../src/workload/pmm-server.js';
import { createDataDisk, inspectDataDisk, passwordHash, type DataDiskView } from './data-disk.js';
import { bootGuest, buildGuest, guestUnavailable, killGuest, pollHttps, shutdownGuest, waitForConsole, type Guest } from './qemu.js';

const unavailable = guestUnavailable();
const BOOT = 12 * 60_000;
const MIN = 60_000;

interface StandinState {
  marker: string;
  passwordRecords: { salt: string; sha256: string }[];
  uid: number;
  gid: number;
}

/** The config `cnvm provision` renders for libvirt (data disk with serial pmm-data), password file composed in. */
async function renderConfig(password: string | undefined, edit?: (ign: IgnitionJson) => void): Promise<string> {
  const pmm = pmmServer({ dataDevice: '/dev/disk/by-id/virtio-pmm-data', adminPassword: 'later' });
  const fragment = password ? compose(pmm.fragment, pmmAdminPasswordFile(password)) : pmm.fragment;
  const { config, entries } = await translate(fcos(fragment, '1.4.0'), { strict: true });
  expect(entries).toEqual([]);
  if (!config) throw new Error('the PMM config did not render');
  const text = formatIgnition(config);
  if (!edit) return text;
  const ign = JSON.parse(text) as IgnitionJson;
  edit(ign);
  return JSON.stringify(ign);
}

interface IgnitionJson {
  storage: { filesystems: { label?: string }[] };
}

describe.skipIf(unavailable !== undefined)(`first boots of the test guest under qemu${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let images: string;
  let dir: string;
  let dataDisk: string;
  let guest: Guest | undefined;
  const password = randomPassword();
  let afterA: DataDiskView;
  let stateA: StandinState;

  beforeAll(async () => {
    images = await buildGuest();
    dir = mkdtempSync(join(tmpdir(), 'cnvm-guest-'));
    dataDisk = join(dir, 'pmm-data.raw');
    createDataDisk(dataDisk, 2);
  }, 25 * MIN);

  afterAll(async () => {
    if (guest) await killGuest(guest);
    if (dir && !process.env.CNVM_KEEP_GUEST_FILES) rmSync(dir, { recursive: true, force: true });
    else if (dir) process.stderr.write(`guest files kept in ${dir}\n`);
  });

  async function boot(name: string, image: string, config: string, restart?: string): Promise<Guest> {
    const ignitionFile = join(dir, `${name}.ign`);
    writeFileSync(ignitionFile, config, { mode: 0o600 });
    guest = await bootGuest({ image: join(images, image), dataDisk, ignitionFile, dir, name, ...(restart ? { restart } : {}) });
    return guest;
  }

  async function state(g: Guest): Promise<StandinState> {
    return JSON.parse((await pollHttps(g, '/v1/standin/state', (a) => a.status === 200, 2 * MIN)).body) as StandinState;
  }

  it(
    'image A, fresh disk: Ignition partitions and formats it, PMM becomes ready through the forwarded port, the password is set',
    async () => {
      const g = await boot('vm-a', 'a.qcow2', await renderConfig(password));
      await waitForConsole(g, /Welcome to cnvm test guest A/, BOOT);
      const text = g.consoleText();
      // Ignition's own words (its disks stage logs at info level; the label is checked on the disk below).
      expect(text).toMatch(/running sgdisk with options: \[--new=1:0:\+\d+ --change-name=1:pmm-data [^\]]*virtio-pmm-data\]/);
      expect(text).toMatch(/creating "xfs" filesystem on "[^"]*virtio-pmm-data-part1"/);
      expect(text).toMatch(/executing: "mkfs\.xfs" "-f" "-L" "pmm-data" [^\n]*virtio-pmm-data-part1"/);
      expect(text).toMatch(/mounting "\/dev\/disk\/by-id\/virtio-pmm-data-part1" at "\/sysroot\/var\/lib\/pmm" with type "xfs"/);

      await pollHttps(g, PMM_HEALTH_PATH, (a) => a.status === 200, BOOT);
      // The password unit runs once readyz answers inside the container; then admin has cnvm's password.
      await pollHttps(g, '/v1/server/version', (a) => a.status === 200, 5 * MIN, `admin:${password}`);
      expect((await pollHttps(g, '/v1/server/version', () => true, MIN, 'admin:admin')).status).toBe(401);
      stateA = await state(g);
      expect({ uid: stateA.uid, gid: stateA.gid }).toEqual({ uid: 1000, gid: 0 });
      expect(stateA.passwordRecords).toHaveLength(1);
      expect(stateA.marker).toMatch(/^[0-9a-f]{32} /);
      // The unit shreds the password file after setting it: powering off before that would leave the file behind.
      await waitForConsole(g, /Finished pmm-admin-password\.service/, 5 * MIN);

      expect(await shutdownGuest(g)).toBe('clean');
      afterA = inspectDataDisk(dataDisk);
      expect(afterA).toMatchObject({ label: 'gpt', partitionName: 'pmm-data', fsType: 'xfs', fsLabel: 'pmm-data', prepared: true, srvOwner: '1000:0' });
      expect(afterA.marker).toBe(stateA.marker);
      expect(afterA.passwordRecords).toHaveLength(1);
      const [record] = afterA.passwordRecords;
      expect(record && passwordHash(record.salt, password)).toBe(record?.sha256);
      expect(record && passwordHash(record.salt, `${password}x`)).not.toBe(record?.sha256);
    },
    25 * MIN,
  );

  it(
    'image B, same disk: Ignition reuses partition and filesystem, the data and the password are untouched',
    async () => {
      expect(afterA?.fsUuid, 'needs the image A boot').toBeDefined();
      // As `cnvm upgrade` renders it: the same recipe, no password file.
      const g = await boot('vm-b', 'b.qcow2', await renderConfig(undefined));
      await waitForConsole(g, /Welcome to cnvm test guest B/, BOOT);
      const text = g.consoleText();
      expect(text).toMatch(/partition 1 found with correct specifications/);
      expect(text).toMatch(/found xfs filesystem .* with uuid .* and label "pmm-data"/);
      expect(text).toMatch(/already correctly formatted\. Skipping mkfs/);
      expect(text).not.toMatch(/creating "xfs" filesystem/);

      await pollHttps(g, PMM_HEALTH_PATH, (a) => a.status === 200, BOOT);
      await pollHttps(g, '/v1/server/version', (a) => a.status === 200, MIN, `admin:${password}`);
      const stateB = await state(g);
      expect(stateB.marker).toBe(stateA.marker);
      expect(stateB.passwordRecords).toEqual(stateA.passwordRecords);

      expect(await shutdownGuest(g)).toBe('clean');
      const afterB = inspectDataDisk(dataDisk);
      expect(afterB.fsUuid).toBe(afterA.fsUuid);
      expect(afterB.marker).toBe(afterA.marker);
      expect(afterB.passwordRecords).toEqual(afterA.passwordRecords);
    },
    25 * MIN,
  );

  it(
    'image B restarted (the same VM again): no Ignition, as on FCOS after the first boot; PMM comes back with the same data',
    async () => {
      expect(afterA?.fsUuid, 'needs the image A boot').toBeDefined();
      // libvirt keeps the fw_cfg config on a restart: it is there, and must not be applied again.
      const g = await boot('vm-b-restart', 'b.qcow2', await renderConfig(undefined), 'vm-b');
      await waitForConsole(g, /Welcome to cnvm test guest B/, BOOT);
      const text = g.consoleText();
      expect(text).toMatch(/Kernel command line: .*ignition\.platform\.id=qemu/);
      expect(text).not.toMatch(/Kernel command line: .*ignition\.firstboot/);
      expect(text).not.toMatch(/Stage: disks|Ignition finished/);
      await pollHttps(g, PMM_HEALTH_PATH, (a) => a.status === 200, BOOT);
      const again = await state(g);
      expect(again.marker).toBe(stateA.marker);
      expect(again.passwordRecords).toEqual(stateA.passwordRecords);
      expect(await shutdownGuest(g)).toBe('clean');
      expect(inspectDataDisk(dataDisk).fsUuid).toBe(afterA.fsUuid);
    },
    25 * MIN,
  );

  it(
    'image C: its PMM answers but never reports ready; the data is untouched',
    async () => {
      expect(afterA?.fsUuid, 'needs the image A boot').toBeDefined();
      const g = await boot('vm-c', 'c.qcow2', await renderConfig(undefined));
      await waitForConsole(g, /Welcome to cnvm test guest C/, BOOT);
      const stateC = await state(g).catch(async () => state(g));
      expect(stateC.marker).toBe(stateA.marker);
      // The stand-in is serving (state answered), so a 503 here is its "not ready", not a guest still booting.
      expect((await pollHttps(g, PMM_HEALTH_PATH, () => true, MIN)).status).toBe(503);
      expect(await shutdownGuest(g)).toBe('clean');
      const afterC = inspectDataDisk(dataDisk);
      expect(afterC.fsUuid).toBe(afterA.fsUuid);
      expect(afterC.passwordRecords).toEqual(afterA.passwordRecords);
    },
    25 * MIN,
  );

  it(
    'a config wanting another filesystem label: Ignition refuses and says why on the console, the disk is unchanged',
    async () => {
      expect(afterA?.fsUuid, 'needs the image A boot').toBeDefined();
      const config = await renderConfig(undefined, (ign) => {
        for (const fs of ign.storage.filesystems) fs.label = 'other-data';
      });
      const g = await boot('vm-bad', 'b.qcow2', config);
      await waitForConsole(g, /Ignition failed/, BOOT);
      expect(g.consoleText()).toMatch(/is not of the correct type, label, or UUID.*and a filesystem wipe was not requested/);
      await killGuest(g);
      const after = inspectDataDisk(dataDisk);
      expect(after.fsUuid).toBe(afterA.fsUuid);
      expect(after.fsLabel).toBe('pmm-data');
      expect(after.marker).toBe(afterA.marker);
      expect(after.passwordRecords).toEqual(afterA.passwordRecords);
    },
    25 * MIN,
  );
});
