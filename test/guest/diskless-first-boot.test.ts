// The clouds' order, on the test guest with the real Ignition: EC2 and GCE start every instance they create, so a
// new generation first boots while its data volume is still on the old VM. cnvm's config names the data disk by
// its stable path (/dev/disk/by-id/virtio-pmm-data here), so Ignition waits for that disk and formats nothing
// else: it gives up after systemd's device timeout and leaves the guest in the initramfs, with nothing written.
// Then, as cnvm does: a forced stop (an ACPI stop is ignored in the initramfs, ../shared notes), the volume
// attached, a start: ignition.firstboot is still set, and Ignition partitions, formats, mounts and writes every
// file in full; PMM comes up with the password cnvm chose.
// Slow (TCG boots, 2-5 min each): run with `npm run test:guest`. Nothing asserts on time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compose, fcos } from '../../src/builders/index.js';
import { formatIgnition, translate } from '../../src/translate/index.js';
import { pmmServer } from '../../src/pmm-recipe.js';
import { pmmAdminPasswordFile, randomPassword, PMM_HEALTH_PATH } from '../../src/workload/pmm-server.js';
import { createDataDisk, inspectDataDisk } from './data-disk.js';
import { bootGuest, buildGuest, guestUnavailable, killGuest, pollHttps, shutdownGuest, waitForConsole, type Guest } from './qemu.js';

const unavailable = guestUnavailable();
const BOOT = 12 * 60_000;
const MIN = 60_000;

describe.skipIf(unavailable !== undefined)(`a first boot without the data disk${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let images: string;
  let dir: string;
  let dataDisk: string;
  let guest: Guest | undefined;

  beforeAll(async () => {
    images = await buildGuest();
    dir = mkdtempSync(join(tmpdir(), 'cnvm-diskless-'));
    dataDisk = join(dir, 'pmm-data.raw');
    createDataDisk(dataDisk, 2);
  }, 25 * MIN);

  afterAll(async () => {
    if (guest) await killGuest(guest);
    if (dir && !process.env.CNVM_KEEP_GUEST_FILES) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'started without its disk, Ignition waits for the stable path and writes nothing; force-stopped, attached and started, it applies the config in full',
    async () => {
      const password = randomPassword();
      // The config cnvm renders for the libvirt provider (stable path by the disk's serial), password composed in.
      const pmm = pmmServer({ dataDisk: { provider: 'libvirt', serial: 'pmm-data' }, adminPassword: 'later' });
      const { config } = await translate(fcos(compose(pmm.fragment, pmmAdminPasswordFile(password)), '1.4.0'), { strict: true });
      if (!config) throw new Error('the PMM config did not render');
      const ignitionFile = join(dir, 'vm.ign');
      writeFileSync(ignitionFile, formatIgnition(config), { mode: 0o600 });

      // Boot 1, as the cloud starts the instance it created: no data disk.
      guest = await bootGuest({ image: join(images, 'a.qcow2'), ignitionFile, dir, name: 'vm' });
      await waitForConsole(guest, /ignition-disks\.service[^\n]*[Ff]ailed|Failed to start[^\n]*[Ii]gnition[^\n]*[Dd]isks|emergency/, BOOT);
      const first = guest.consoleText();
      expect(first).toMatch(/virtio-pmm-data/);
      // Nothing else was partitioned or formatted, and the real root was never reached.
      expect(first).not.toMatch(/running sgdisk|creating "xfs" filesystem|mkfs\.xfs/);
      expect(first).not.toMatch(/Welcome to cnvm test guest A/);
      // The forced stop (what cnvm asks for a generation that never booted with its disk).
      await killGuest(guest);
      expect(inspectDataDisk(dataDisk)).toMatchObject({ label: undefined, prepared: false });

      // Boot 2: the same VM, the volume attached.
      guest = await bootGuest({ image: join(images, 'a.qcow2'), dataDisk, ignitionFile, dir, name: 'vm-with-disk', restart: 'vm' });
      await waitForConsole(guest, /Welcome to cnvm test guest A/, BOOT);
      const text = guest.consoleText();
      expect(text).toMatch(/Kernel command line: .*ignition\.firstboot/);
      expect(text).toMatch(/running sgdisk with options: \[--new=1:0:\+\d+ --change-name=1:pmm-data [^\]]*virtio-pmm-data\]/);
      expect(text).toMatch(/executing: "mkfs\.xfs" "-f" "-L" "pmm-data" [^\n]*virtio-pmm-data-part1"/);
      expect(text).toMatch(/mounting "\/dev\/disk\/by-id\/virtio-pmm-data-part1" at "\/sysroot\/var\/lib\/pmm" with type "xfs"/);
      // Every file and unit: PMM runs from the volume and has the password cnvm chose.
      await pollHttps(guest, PMM_HEALTH_PATH, (a) => a.status === 200, BOOT);
      await pollHttps(guest, '/v1/server/version', (a) => a.status === 200, 5 * MIN, `admin:${password}`);
      await waitForConsole(guest, /Finished pmm-admin-password\.service/, 5 * MIN);
      expect(await shutdownGuest(guest)).toBe('clean');
      guest = undefined;
      expect(inspectDataDisk(dataDisk)).toMatchObject({ partitionName: 'pmm-data', fsType: 'xfs', fsLabel: 'pmm-data', prepared: true, srvOwner: '1000:0' });
    },
    40 * MIN,
  );
});
