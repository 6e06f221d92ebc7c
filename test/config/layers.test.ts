import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatResolved, resolveSettings, SettingsError } from '../../src/config/layers.js';

const configDir = join(import.meta.dirname, '..', 'fixtures', 'config', 'providers');
const cwd = join(import.meta.dirname, '..', 'fixtures', 'config');

describe('layered settings', () => {
  it('merges profile → stage → host file → flags, later wins, maps merge, and records origins', () => {
    const r = resolveSettings(
      { provider: 'libvirt', stage: 'prod', name: 'pmm1', configDir, flags: { values: { cpus: 8, pmm: { tag: '3.4.1' } }, origins: { cpus: '--cpus', 'pmm.tag': '--pmm-tag' } } },
      cwd,
    );
    expect(r.settings).toMatchObject({
      provider: 'libvirt',
      data_size: '200G',
      memory: 8192,
      cpus: 8,
      stream: 'stable',
      pmm: { tag: '3.4.1', env: { PMM_ENABLE_UPDATES: 'false', PMM_DATA_RETENTION: '2160h' } },
    });
    expect(r.origins).toMatchObject({
      provider: 'providers/libvirt.yaml:1:11',
      data_size: 'providers/stages/prod.yaml:1:12',
      memory: 'providers/hosts/pmm1.yaml:1:9',
      cpus: '--cpus',
      'pmm.tag': '--pmm-tag',
      'pmm.env.PMM_ENABLE_UPDATES': 'providers/libvirt.yaml:7:25',
      'pmm.env.PMM_DATA_RETENTION': 'providers/stages/prod.yaml:4:25',
      stream: 'default',
    });
    expect(r.layers).toEqual(['providers/libvirt.yaml', 'providers/stages/prod.yaml', 'providers/hosts/pmm1.yaml', 'flags']);
    expect(formatResolved(r)).toMatch(/^data_size: "200G" +# providers\/stages\/prod\.yaml:1:12$/m);
  });

  it('rejects unknown keys and wrong types with file, line and column', () => {
    const err = (() => {
      try {
        resolveSettings({ provider: 'libvirt', name: 'typo', configDir }, cwd);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(err).toBeInstanceOf(SettingsError);
    expect((err as Error).message.split('\n')).toEqual([
      'providers/hosts/typo.yaml: error at $.pmm.tags, line 3 col 3: unknown key tags (known: tag, publish_http, env, secret_env)',
      'providers/hosts/typo.yaml: error at $.cpus, line 4 col 7: expected a whole number',
    ]);
  });

  it('says when a named stage file is missing', () => {
    expect(() => resolveSettings({ provider: 'libvirt', stage: 'qa', configDir }, cwd)).toThrow(/stages\/qa\.yaml does not exist/);
  });
});
