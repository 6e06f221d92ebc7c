// The committed renderings are current: butane/pmm-server.bu is what butane/pmm-server.ts gives for libvirt, and
// every ignition/*.ign is what its butane/*.bu translates to. Run `npm run render` after changing the recipe.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { renderIgnition, renderPmmButane } from '../../scripts/render.mjs';
import { translate } from '../../src/translate/index.js';
import { escapeUnitPath } from '../../src/translate/systemd-escape.js';
import pmmConfig from '../../butane/pmm-server.js';
import { ignitionValidate } from '../support/ignition-runner.js';

const root = join(import.meta.dirname, '..', '..');

describe('committed renderings', () => {
  it('butane/pmm-server.bu is the libvirt rendering of butane/pmm-server.ts', async () => {
    expect(readFileSync(join(root, 'butane/pmm-server.bu'), 'utf8'), 'stale: run npm run render').toBe(await renderPmmButane());
  });

  it('butane/pmm-server.ts (libvirt) and butane/pmm-server.bu translate to the same Ignition config', async () => {
    const fromTs = await translate(pmmConfig({ provider: 'libvirt' }), { strict: true });
    const fromBu = await translate(readFileSync(join(root, 'butane/pmm-server.bu'), 'utf8'), { strict: true, file: 'pmm-server.bu' });
    expect(fromTs.entries).toEqual([]);
    expect(fromBu.entries).toEqual([]);
    expect(fromTs.config).toEqual(fromBu.config);
    expect(pmmConfig()).toEqual(pmmConfig({ provider: 'libvirt' }));
  });

  for (const name of readdirSync(join(root, 'butane')).filter((f) => f.endsWith('.bu'))) {
    it(`ignition/${name.replace(/\.bu$/, '.ign')} is the rendering of butane/${name}`, async () => {
      const committed = readFileSync(join(root, 'ignition', name.replace(/\.bu$/, '.ign')), 'utf8');
      expect(JSON.parse(committed), 'stale: run npm run render').toEqual(JSON.parse(await renderIgnition(join(root, 'butane', name))));
      // Spec 3.3 at most, so Debian's Ignition 2.14 (and its ignition-validate) can check and run it.
      expect((JSON.parse(committed) as { ignition: { version: string } }).ignition.version).toMatch(/^3\.[0-3]\.0$/);
      expect(ignitionValidate(committed)).toEqual({ ok: true, output: '' });
    });
  }

  it('the per-provider variants differ only in the data disk device', async () => {
    const devices: Record<string, string> = {};
    const withoutDevice = async (provider: string): Promise<string> => {
      const { config, entries } = await translate(pmmConfig({ provider }), { strict: true });
      expect(entries).toEqual([]);
      const text = JSON.stringify(config);
      const device = (/"device":"([^"]+)"/.exec(text) ?? [])[1] ?? '';
      devices[provider] = device;
      // The mount unit names the device twice more: plain, and systemd-escaped in its fsck dependency.
      const escaped = JSON.stringify(escapeUnitPath(`${device}-part1`)).slice(1, -1);
      return text.replaceAll(escaped, 'ESCAPED').replaceAll(device, 'DEVICE');
    };
    const libvirt = await withoutDevice('libvirt');
    for (const provider of ['gcp', 'aws']) expect(await withoutDevice(provider)).toBe(libvirt);
    expect(devices).toEqual({
      libvirt: '/dev/disk/by-id/virtio-pmm-data',
      gcp: '/dev/disk/by-id/google-pmm-data',
      aws: '/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0',
    });
    expect(() => pmmConfig({ provider: 'azure' })).toThrow(/unknown provider/);
  });
});
