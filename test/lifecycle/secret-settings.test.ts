// Secret PMM settings (by name, by value, or marked in `pmm.secret_env`): their values reach the first boot's
// root-only env file and nothing else — not the record (local or with the VM), the journal, a later config, or
// any file of the state directory.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { desiredFrom } from '../../src/cli/inputs.js';
import { mergeLayers } from '../../src/config/layers.js';
import { MASK, maskSecrets } from '../../src/config/secrets.js';
import { upgrade } from '../../src/lifecycle/upgrade.js';
import { PMM_ENV_DEFAULTS } from '../../src/workload/pmm-server.js';
import { hasUrlCredentials, isSecretSetting, splitPmmEnv } from '../../src/workload/pmm-secrets.js';
import { createFakeProvider, type FakeProvider } from '../support/fake-provider.js';
import { provision } from '../../src/lifecycle/provision.js';
import { fileInConfig, provisionInput, provisionVm, tempStore } from '../support/lifecycle.js';

const A = { id: 'image-a', version: 'A' };
const B = { id: 'image-b', version: 'B' };
const SECRETS = {
  PMM_POSTGRES_PASSWORD: 'pg-Secret-4f1e9a',
  PMM_PW: 'pw-Secret-77ab10',
  PMM_CLICKHOUSE_ADDR: 'tcp://ch:ch-Secret-3c5d@clickhouse:9000',
};
const MARKED = { PMM_CUSTOM_THING: 'marked-Secret-0a9b' };
const PUBLIC = { PMM_ENABLE_TELEMETRY: '0', PMM_PUBLIC_ADDRESS: 'https://pmm.example.test/' };
const VALUES = [...Object.values(SECRETS), ...Object.values(MARKED)];

/** Every file under `root` with its contents. */
function filesUnder(root: string): { path: string; text: string; mode: number }[] {
  return (readdirSync(root, { recursive: true }) as string[])
    .map((p) => join(root, p))
    .filter((p) => statSync(p).isFile())
    .map((p) => ({ path: p, text: readFileSync(p, 'utf8'), mode: statSync(p).mode & 0o777 }));
}

describe('which PMM settings are secret', () => {
  it('by name (PASSWORD, TOKEN, _PW, …), by a URL carrying credentials, or by the explicit pmm.secret_env marker', () => {
    expect(isSecretSetting('PMM_PW', 'x')).toBe(true);
    expect(isSecretSetting('GF_SECURITY_ADMIN_PASSWORD', 'x')).toBe(true);
    expect(isSecretSetting('PMM_CLICKHOUSE_ADDR', 'tcp://u:p@h:9000')).toBe(true);
    expect(isSecretSetting('PMM_PUBLIC_ADDRESS', 'https://pmm.example.test/')).toBe(false);
    expect(hasUrlCredentials('https://user@host/')).toBe(true);
    expect(hasUrlCredentials('mailto:ops@example.test')).toBe(false);
    const split = splitPmmEnv({ ...SECRETS, ...PUBLIC }, MARKED);
    expect(split.env).toEqual(PUBLIC);
    expect(split.secret).toEqual({ ...MARKED, ...SECRETS });
  });

  it('settings from a profile: the desired state keeps secret ones by name only; config show masks them all', async () => {
    const resolved = mergeLayers([{ source: 'providers/libvirt.yaml', values: { pmm: { env: { ...SECRETS, ...PUBLIC }, secret_env: MARKED } } }]);
    const inputs = await desiredFrom(resolved, 'libvirt');
    expect(inputs.defaults.pmm.env).toEqual(PUBLIC);
    expect(inputs.defaults.pmm.secretEnv).toEqual(Object.keys({ ...SECRETS, ...MARKED }).sort());
    expect(inputs.secretEnv).toEqual({ ...MARKED, ...SECRETS });
    const shown = JSON.stringify(maskSecrets(resolved).settings);
    for (const v of VALUES) expect(shown).not.toContain(v);
    expect(shown).toContain(MASK);
    expect(shown).toContain('https://pmm.example.test/');
  });
});

describe('secret PMM settings through provision and upgrade', () => {
  let p: FakeProvider;
  let store: ReturnType<typeof tempStore>;
  beforeEach(() => {
    p = createFakeProvider();
    store = tempStore();
  });
  afterEach(() => store.cleanup());

  it('reach only the first boot env file (0600); the record, the VM metadata, the journal, later configs and the state dir never hold them', async () => {
    const secretEnv = { ...SECRETS, ...MARKED };
    // The secret values travel beside the desired state, as the CLI passes them (desiredFrom's secretEnv).
    const r = await provision(p, store, { ...provisionInput('pmm', A, { defaults: { pmm: { env: PUBLIC, secretEnv: Object.keys(secretEnv).sort() } } }), secretEnv });
    expect(r.health).toBe('passed');
    const firstBoot = fileInConfig(p.spec('pmm')?.firstBootIgnition ?? '', PMM_ENV_DEFAULTS) ?? '';
    for (const [k, v] of Object.entries({ ...secretEnv, ...PUBLIC })) expect(firstBoot).toContain(`${k}=${v}`);
    const firstBootFile = (JSON.parse(p.spec('pmm')?.firstBootIgnition ?? '{}') as { storage: { files: { path: string; mode: number }[] } }).storage.files.find((f) => f.path === PMM_ENV_DEFAULTS);
    expect(firstBootFile?.mode).toBe(0o600);

    // After the gate the stored config is replaced: it keeps the public settings only.
    const scrubbed = fileInConfig(p.spec('pmm')?.ignition ?? '', PMM_ENV_DEFAULTS) ?? '';
    expect(scrubbed).toContain('PMM_ENABLE_TELEMETRY=0');
    for (const v of VALUES) expect(scrubbed).not.toContain(v);

    await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true });
    const listed = await p.list();
    expect(listed.vms.map((v) => v.name)).toContain('pmm-g2');
    // The new generation boots a volume PMM already set up: its config leaves the secrets out.
    const providerSide = JSON.stringify(listed) + (p.spec('pmm-g2')?.firstBootIgnition ?? '') + (p.spec('pmm-g2')?.ignition ?? '');
    expect(providerSide).toContain('PMM_ENABLE_TELEMETRY');
    for (const v of VALUES) expect(providerSide, 'provider-side strings').not.toContain(v);
    const files = filesUnder(store.dir);
    expect(files.length).toBeGreaterThan(0);
    for (const f of files) for (const v of VALUES) expect(f.text, f.path).not.toContain(v);
    expect(store.readRecord('libvirt', 'pmm')?.desired.pmm.secretEnv).toEqual(Object.keys(secretEnv).sort());
  });

  it('a record written by an older cnvm with secret values in pmm.env: read and written back without them', async () => {
    await provisionVm(p, store, 'pmm', A, { defaults: { pmm: { env: PUBLIC } } });
    const path = store.recordPath('libvirt', 'pmm');
    const old = JSON.parse(readFileSync(path, 'utf8')) as { desired: { pmm: { env: Record<string, string> } } };
    old.desired.pmm.env = { ...old.desired.pmm.env, ...SECRETS };
    writeFileSync(path, JSON.stringify(old));
    const read = store.readRecord('libvirt', 'pmm');
    expect(read?.desired.pmm.env).toEqual(PUBLIC);
    expect(read?.desired.pmm.secretEnv).toEqual(Object.keys(SECRETS).sort());
    await upgrade(p, store, { name: 'pmm', overrides: { image: B }, skipHealthCheck: true });
    for (const v of Object.values(SECRETS)) {
      expect(readFileSync(path, 'utf8')).not.toContain(v);
      expect(JSON.stringify(await p.list())).not.toContain(v);
      expect(p.spec('pmm-g2')?.firstBootIgnition ?? p.spec('pmm-g2')?.ignition).not.toContain(v);
    }
  });
});
