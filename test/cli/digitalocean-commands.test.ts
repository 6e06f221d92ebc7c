// `cnvm provision | status | list | upgrade | destroy --provider digitalocean` end to end: the built CLI pointed at
// the stateful fake of DigitalOcean's API v2 on loopback through CNVM_DO_ENDPOINT, the token given in the
// environment only, the operator's public address from a loopback echo service (CNVM_PUBLIC_IP_URL). The fake
// hands out loopback addresses, so the upgrade's health gate polls 127.0.x.y (nothing listens: it fails, the
// upgrade rolls back onto the same volume). Needs `npm run build` (globalSetup builds it).
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutProgress } from './progress-lines.js';
import { evaluateIgnitionTemplate } from '../export/tf-schema.js';
import { startFakeDo, type FakeDo } from '../support/fake-do.js';
import { startEchoIp, type EchoIp } from '../support/gcp-harness.js';
import { runCli, type CliResult } from '../support/run-cli.js';

const TOKEN = 'dop_v1_cnvm-test-token-0123456789abcdef';
const dir = mkdtempSync(join(tmpdir(), 'cnvm-docli-'));
const configDir = join(dir, 'providers');
const stateDir = join(dir, 'state');
mkdirSync(configDir);
let fake: FakeDo;
let echo: EchoIp;
const place = ['--provider', 'digitalocean', '--region', 'fra1', '--config-dir', configDir, '--state-dir', stateDir];
const common = [...place, '--name', 'pmm1'];
const argsSeen: string[][] = [];

/** The built CLI; the token only in its environment. `env` replaces what points at the fake when given. */
function cnvm(args: string[], env?: NodeJS.ProcessEnv): Promise<CliResult> {
  argsSeen.push(args);
  const base = { CNVM_DO_ENDPOINT: fake.url, DIGITALOCEAN_TOKEN: TOKEN, CNVM_PUBLIC_IP_URL: echo.url, CNVM_DO_RETRY_BASE_MS: '5', HOME: join(dir, 'home') };
  return runCli(args, { env: env ?? base });
}

const count = <T>(xs: Iterable<T>, pred: (x: T) => boolean): number => [...xs].filter(pred).length;
const mutations = (): string[] => fake.log.filter((l) => !l.startsWith('GET '));

/** Every file under `root`, recursively. */
function filesUnder(root: string): string[] {
  return readdirSync(root).flatMap((n) => {
    const p = join(root, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

beforeAll(async () => {
  fake = await startFakeDo({ token: TOKEN, loopbackAddresses: true, actionPolls: 2 });
  echo = await startEchoIp();
  mkdirSync(join(dir, 'home'));
});
afterAll(async () => {
  await fake.close();
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm with --provider digitalocean', { timeout: 240_000 }, () => {
  it('--dry-run --json prints the requests it would send and sends none', async () => {
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', '1001', '--dry-run', '--json']);
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const actions = (JSON.parse(r.stdout) as { steps: { actions: { action: string }[] }[] }).steps.flatMap((s) => s.actions.map((a) => a.action));
    expect(actions).toEqual(expect.arrayContaining(['POST /v2/volumes', 'POST /v2/firewalls', 'POST /v2/droplets', 'POST /v2/reserved_ips']));
    expect(mutations()).toEqual([]);
  });

  it('provisions, shows status and list, upgrades onto the same volume and address, rolls back a failed gate, destroys keeping volume and address', async () => {
    const p = await cnvm(['provision', '--skip-health-check', ...common, '--image', '1001', '--data-size', '50G', '--json']);
    expect(withoutProgress(p.stderr)).toBe('');
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { vm: { state: string; addresses: string[] }; volume: { id: string; sizeGiB: number } };
    expect(out.vm.state).toBe('running');
    expect(out.volume).toMatchObject({ id: 'pmm1-data', sizeGiB: 50 });
    const address = out.vm.addresses[0] as string;
    expect(address).toMatch(/^127\.0\.2\.\d+$/);
    const d1 = fake.droplet('pmm1');
    expect(d1?.user_data).toContain('/dev/disk/by-id/scsi-0DO_Volume_pmm1-data');
    expect(d1?.tags).toEqual(expect.arrayContaining(['cnvm', 'cnvm-vm:pmm1', 'cnvm-image:1001']));
    const volumeUuid = fake.volume('pmm1-data')?.id as string;
    expect(fake.volume('pmm1-data')?.droplet_ids).toEqual([d1?.id]);
    expect(fake.volume('pmm1-data')?.filesystem_type ?? '').toBe('');
    expect([...fake.firewalls.values()].find((f) => f.name === 'cnvm-pmm1')).toMatchObject({ tags: ['cnvm-vm:pmm1'] });
    expect(JSON.stringify([...fake.firewalls.values()])).toContain('127.0.0.1/32');

    const s = await cnvm(['status', ...common, '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toMatchObject({ name: 'pmm1', url: `https://${address}/` });
    const l = await cnvm(['list', '--provider', 'digitalocean', '--region', 'fra1', '--config-dir', configDir, '--state-dir', stateDir, '--json']);
    expect(l.code).toBe(0);
    expect((JSON.parse(l.stdout) as { vms: { provider: string; name: string }[] }).vms).toEqual(expect.arrayContaining([expect.objectContaining({ provider: 'digitalocean', name: 'pmm1' })]));

    const all = await cnvm(['status', '--all', '--provider', 'digitalocean', '--region', 'fra1', '--config-dir', configDir, '--state-dir', join(dir, 'state-new'), '--json']);
    expect(all.code, all.stderr).toBe(0);
    // From the droplet's own tags (a new state directory knows nothing).
    expect(JSON.parse(all.stdout)).toMatchObject({ all: true, providers: [{ name: 'digitalocean', ok: true }], vms: [{ provider: 'digitalocean', name: 'pmm1', generation: 1, vm: 'pmm1', state: 'running', image: '1001' }] });

    const u = await cnvm(['upgrade', ...common, '--image', '1002', '--skip-health-check', '--yes', '--json']);
    expect(withoutProgress(u.stderr)).toBe('');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({ outcome: 'upgraded', newVm: 'pmm1-g2', vm: { image: '1002', volumes: [{ volumeId: 'pmm1-data' }] } });
    expect(fake.droplet('pmm1')).toBeUndefined();
    const d2 = fake.droplet('pmm1-g2');
    // The same volume (by DigitalOcean's id) and the same reserved IP, on the new droplet.
    expect(fake.volume('pmm1-data')?.id).toBe(volumeUuid);
    expect(fake.volume('pmm1-data')?.droplet_ids).toEqual([d2?.id]);
    expect(fake.reservedIps.get(address)?.dropletId).toBe(d2?.id);

    // A gate that never passes (PMM answers nowhere on the loopback address): rolled back to pmm1-g2, exit 6.
    const r = await cnvm(['upgrade', ...common, '--image', '1001', '--health-timeout', '2', '--yes', '--json']);
    expect(r.code, r.stderr).toBe(6);
    expect(fake.droplet('pmm1-g3')).toBeUndefined();
    const back = fake.droplet('pmm1-g2');
    expect(back?.status).toBe('active');
    expect(fake.volume('pmm1-data')?.droplet_ids).toEqual([back?.id]);
    expect(fake.reservedIps.get(address)?.dropletId).toBe(back?.id);
    expect(count(fake.volumes.values(), () => true)).toBe(1);

    const d = await cnvm(['destroy', ...common, '--json']);
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ vmRemoved: true, volumeDeleted: false, volumeKept: 'pmm1-data' });
    expect(fake.droplets.size).toBe(0);
    expect(fake.volume('pmm1-data')?.id).toBe(volumeUuid);
    expect(fake.reservedIps.has(address)).toBe(true);
    expect([...fake.firewalls.values()].some((f) => f.name === 'cnvm-pmm1')).toBe(false);

    const gone = await cnvm(['destroy', ...common, '--delete-data', '--yes', '--json']);
    expect(gone.code, gone.stderr).toBe(0);
    expect(fake.volume('pmm1-data')).toBeUndefined();
    expect(fake.reservedIps.has(address)).toBe(false);
  });

  it('429, 5xx, a reset and a lost reply after the call took effect: one droplet, one volume, one reserved IP', async () => {
    const name = ['--name', 'pmm2'];
    fake.injectFault({ match: /^POST \/v2\/volumes$/, status: 429, times: 1 });
    fake.injectFault({ match: /^POST \/v2\/volumes$/, lost: true, times: 1 });
    fake.injectFault({ match: /^POST \/v2\/droplets$/, status: 503, times: 1 });
    fake.injectFault({ match: /^POST \/v2\/droplets$/, lost: true, times: 1 });
    fake.injectFault({ match: /^POST \/v2\/reserved_ips$/, lost: true, times: 1 });
    fake.injectFault({ match: /^GET \/v2\/droplets$/, reset: true, times: 1 });
    fake.injectFault({ match: /^POST \/v2\/droplets\/\d+\/actions$/, lost: true, times: 1 });
    const served = fake.faultsServed.length;
    const ipsBefore = fake.reservedIps.size;
    const p = await cnvm(['provision', '--skip-health-check', ...place, ...name, '--image', '1001', '--json']);
    expect(withoutProgress(p.stderr)).toBe('');
    expect(p.code).toBe(0);
    expect(fake.faultsServed.slice(served).sort()).toEqual(['429 POST /v2/volumes', 'lost POST /v2/droplets', 'lost POST /v2/droplets/{id}/actions', 'lost POST /v2/reserved_ips', 'lost POST /v2/volumes', 'reset GET /v2/droplets', '503 POST /v2/droplets'].map((f) => f.replace('{id}', String(fake.droplet('pmm2')?.id))).sort());
    expect(count(fake.droplets.values(), (d) => d.name === 'pmm2')).toBe(1);
    expect(count(fake.volumes.values(), (v) => v.name === 'pmm2-data')).toBe(1);
    expect(fake.droplet('pmm2')?.status).toBe('active');
    // One reserved IP for pmm2: the one the lost reply made, found and named, none left unnamed.
    const named = [...fake.tags].filter((t) => t.startsWith('cnvm-addr:pmm2-address:'));
    expect(named).toHaveLength(1);
    expect(fake.reservedIps.size).toBe(ipsBefore + 1);
    const d = await cnvm(['destroy', ...place, ...name, '--delete-data', '--yes']);
    expect(d.code, d.stderr).toBe(0);
    expect([fake.droplet('pmm2'), fake.volume('pmm2-data')]).toEqual([undefined, undefined]);
    expect(fake.reservedIps.size).toBe(ipsBefore);
  });

  it("export terraform: the template's user data is what provision gives the droplet, the volume named alike", async () => {
    const flags = [...place, '--name', 'pmm3', '--image', '1001', '--pmm-tag', '3.5.0', '--allow-from', '198.51.100.0/24'];
    const exported = await cnvm(['export', 'terraform', ...flags]);
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).not.toContain(TOKEN);
    const tf = JSON.parse(exported.stdout) as { resource: { digitalocean_droplet: { pmm: { user_data: string } }; digitalocean_volume: { data: { name: string } } }; variable: Record<string, { default?: unknown }> };
    expect(tf.variable.image?.default).toBe('1001');
    expect(tf.variable.allowed_cidrs?.default).toEqual(['198.51.100.0/24']);
    const p = await cnvm(['provision', '--skip-health-check', ...flags, '--json']);
    expect(p.code, p.stderr).toBe(0);
    const { adminPassword } = JSON.parse(p.stdout) as { adminPassword: string };
    expect(evaluateIgnitionTemplate(tf.resource.digitalocean_droplet.pmm.user_data, { adminPassword })).toBe(fake.droplet('pmm3')?.user_data);
    expect(tf.resource.digitalocean_volume.data.name).toBe(fake.volume('pmm3-data')?.name);
    const d = await cnvm(['destroy', ...place, '--name', 'pmm3', '--delete-data', '--yes']);
    expect(d.code, d.stderr).toBe(0);
  });

  it('the token is never in process args, output, local files, tags, user data or request bodies', () => {
    expect(JSON.stringify(argsSeen)).not.toContain(TOKEN);
    for (const f of filesUnder(dir)) expect(readFileSync(f, 'utf8'), f).not.toContain(TOKEN);
    expect(JSON.stringify(fake.bodies)).not.toContain(TOKEN);
    expect(JSON.stringify([...fake.tags])).not.toContain(TOKEN);
  });

  it('no token: exit 4 with the ways to give one, before any call, no stack trace', async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    const before = fake.log.length;
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', '1001'], { PATH: process.env.PATH ?? '', HOME: home, CNVM_DO_ENDPOINT: fake.url, CNVM_PUBLIC_IP_URL: echo.url, DIGITALOCEAN_TOKEN: '', DIGITALOCEAN_ACCESS_TOKEN: '' });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no DigitalOcean API token found/);
    expect(r.stderr).toContain('DIGITALOCEAN_TOKEN');
    expect(r.stderr).toContain('doctl auth init');
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(fake.log.length).toBe(before);
  });

  it("takes the token from doctl's config when the environment has none; a wrong token is exit 4 naming the variable", async () => {
    const home = mkdtempSync(join(dir, 'home-'));
    mkdirSync(join(home, '.config/doctl'), { recursive: true });
    writeFileSync(join(home, '.config/doctl/config.yaml'), `access-token: ${TOKEN}\ncontext: default\n`, { mode: 0o600 });
    const env = { PATH: process.env.PATH ?? '', HOME: home, CNVM_DO_ENDPOINT: fake.url, CNVM_PUBLIC_IP_URL: echo.url };
    const ok = await cnvm(['list', '--provider', 'digitalocean', '--region', 'fra1', '--config-dir', configDir, '--state-dir', stateDir, '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await cnvm(['list', '--provider', 'digitalocean', '--region', 'fra1', '--config-dir', configDir, '--state-dir', stateDir], { ...env, DIGITALOCEAN_TOKEN: 'dop_v1_wrong' });
    expect(bad.code).toBe(4);
    expect(bad.stderr).toMatch(/rejected the API token.*DIGITALOCEAN_TOKEN/s);
    expect(bad.stderr).not.toContain('dop_v1_wrong');
  });
});
