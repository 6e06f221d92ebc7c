// `cnvm provision | status | upgrade | destroy --provider gcp` end to end: the built CLI with the real GCE client,
// pointed at the stateful fake Compute API through CNVM_GCE_ENDPOINT, and at a loopback echo service for the
// operator's public address through CNVM_PUBLIC_IP_URL. Needs `npm run build`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withoutProgress } from './progress-lines.js';
import { runCli, type CliRun as Run } from '../support/run-cli.js';
import { startFakeGce, type FakeGce } from '../support/fake-gce.js';
import { startEchoIp, type EchoIp } from '../support/gcp-harness.js';
import { checkRequest, requestTypeOf } from '../support/gce-protos.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-gcpcli-'));
const configDir = join(dir, 'providers');
mkdirSync(configDir);
let fake: FakeGce;
let echo: EchoIp;
const place = ['--provider', 'gcp', '--zone', 'europe-west1-b', '--config-dir', configDir, '--state-dir', join(dir, 'state')];
const common = [...place, '--project', 'cnvm-test', '--name', 'pmm1'];
const IMAGE_A = 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a';
const IMAGE_B = 'projects/fedora-coreos-cloud/global/images/fedora-coreos-b';

/** The built CLI. `clean`: no inherited environment, HOME at `home`, nothing pointing at the fake. */
function cnvm(args: string[], env: Record<string, string> = {}, clean?: { home: string }): Promise<Run> {
  // Asynchronous: the fake API runs in this process and must keep answering.
  if (clean) return runCli(args, { clean: true, home: clean.home, env });
  return runCli(args, { env: { CNVM_GCE_ENDPOINT: `http://127.0.0.1:${fake.port}`, CNVM_PUBLIC_IP_URL: echo.url, CNVM_GCE_RETRY_BASE_MS: '5', ...env } });
}

const emptyHome = (): string => mkdtempSync(join(dir, 'home-'));
const mutations = (): string[] => fake.log.filter((a) => !a.startsWith('GET ') && !a.endsWith('/wait'));

beforeAll(async () => {
  fake = await startFakeGce('cnvm-test', 'europe-west1-b', { networks: { 'vpc-a': ['sub-a'] } });
  echo = await startEchoIp();
});
afterAll(async () => {
  await fake.close();
  await echo.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm with --provider gcp', { timeout: 240_000 }, () => {
  it('--dry-run --json prints the requests it would send, each a valid request of the client, and sends none', async () => {
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable', '--dry-run', '--json']);
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout) as { steps: { actions: { action: string; detail: Record<string, unknown> }[] }[] };
    const actions = plan.steps.flatMap((s) => s.actions);
    expect(actions.map((a) => a.action)).toEqual(expect.arrayContaining(['compute.disks.insert', 'compute.firewalls.insert', 'compute.instances.insert', 'compute.instances.stop', 'compute.instances.start']));
    expect(actions[0]?.detail).toMatchObject({ project: 'cnvm-test', zone: 'europe-west1-b', diskResource: { name: 'pmm1-data', sizeGb: '20' } });
    expect(actions.flatMap((a) => checkRequest(requestTypeOf(a.action), a.detail))).toEqual([]);
    // A dry run reads what exists (the record, the volume); it changes nothing.
    expect(mutations()).toEqual([]);
  });

  it('provisions, upgrades and destroys, keeping the data disk; the VM has its own firewall rule for this machine', async () => {
    const p = await cnvm(['provision', '--skip-health-check', ...common, '--image', IMAGE_A, '--data-size', '50G', '--json']);
    expect(withoutProgress(p.stderr)).toBe('');
    expect(p.code).toBe(0);
    const out = JSON.parse(p.stdout) as { vm: { state: string; addresses: string[] }; volume: { sizeGiB: number; deviceName: string }; adminPassword: string };
    expect(out.vm.state).toBe('running');
    expect(out.vm.addresses.length).toBeGreaterThan(0);
    expect(out.volume).toMatchObject({ sizeGiB: 50, deviceName: 'pmm-data' });
    const inst = fake.instances.get('pmm1');
    const userData = inst?.metadata.items.find((i) => i.key === 'user-data')?.value ?? '';
    expect(userData).toContain('/dev/disk/by-id/google-pmm-data');
    expect(inst?.disks.find((d) => !d.boot)).toMatchObject({ deviceName: 'pmm-data', mode: 'READ_WRITE', autoDelete: false });
    // No --allow-from: 443 and 22 open to what the echo service saw (this machine), on this VM's tag only.
    expect(inst?.tags.items).toEqual(['cnvm-pmm1']);
    expect(fake.firewalls.get('cnvm-pmm1-allow')).toMatchObject({ allowed: [{ IPProtocol: 'tcp', ports: ['443', '22'] }], sourceRanges: ['127.0.0.1/32'], targetTags: ['cnvm-pmm1'] });

    const u = await cnvm(['upgrade', ...common, '--image', IMAGE_B, '--skip-health-check', '--yes', '--json']);
    expect(withoutProgress(u.stderr)).toBe('');
    expect(u.code).toBe(0);
    expect(JSON.parse(u.stdout)).toMatchObject({ outcome: 'upgraded', newVm: 'pmm1-g2', vm: { image: IMAGE_B, volumes: [{ volumeId: 'pmm1-data', deviceName: 'pmm-data' }] } });
    expect(fake.instances.has('pmm1')).toBe(false);
    expect(fake.instances.get('pmm1-g2')?.tags.items).toEqual(['cnvm-pmm1']);

    const d = await cnvm(['destroy', ...common, '--json']);
    expect(d.code).toBe(0);
    expect(JSON.parse(d.stdout)).toMatchObject({ vmRemoved: true, volumeDeleted: false, volumeKept: 'pmm1-data' });
    expect(fake.disks.has('pmm1-data')).toBe(true);
    expect(fake.instances.size).toBe(0);
  });

  it('applies every --allow-from, and an upgrade with other ones patches the rule', async () => {
    const name = ['--name', 'pmm2'];
    const p = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', ...name, '--image', IMAGE_A, '--allow-from', '198.51.100.0/24', '--allow-from', '203.0.113.7/32', '--json']);
    expect(withoutProgress(p.stderr)).toBe('');
    expect(p.code).toBe(0);
    expect(fake.firewalls.get('cnvm-pmm2-allow')?.sourceRanges).toEqual(['198.51.100.0/24', '203.0.113.7/32']);
    const dry = await cnvm(['upgrade', ...place, '--project', 'cnvm-test', ...name, '--image', IMAGE_B, '--allow-from', '192.0.2.0/28', '--skip-health-check', '--yes', '--dry-run', '--json']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain('compute.firewalls.patch');
    expect(dry.stdout).toContain('192.0.2.0/28');
    const u = await cnvm(['upgrade', ...place, '--project', 'cnvm-test', ...name, '--image', IMAGE_B, '--allow-from', '192.0.2.0/28', '--skip-health-check', '--yes', '--json']);
    expect(withoutProgress(u.stderr)).toBe('');
    expect(u.code).toBe(0);
    expect(fake.firewalls.get('cnvm-pmm2-allow')).toMatchObject({ sourceRanges: ['192.0.2.0/28'], allowed: [{ IPProtocol: 'tcp', ports: ['443', '22'] }] });
    expect(fake.log.filter((l) => l.startsWith('PATCH ') && l.endsWith('/global/firewalls/cnvm-pmm2-allow'))).toHaveLength(1);
  });

  it('puts a VM on a custom VPC by --subnet alone, with no `default` network beside it', async () => {
    const r = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', '--name', 'pmm3', '--subnet', 'sub-a', '--image', IMAGE_A, '--json']);
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    expect(fake.instances.get('pmm3')?.networkInterfaces[0]).toMatchObject({ subnetwork: 'projects/cnvm-test/regions/europe-west1/subnetworks/sub-a', network: expect.stringMatching(/global\/networks\/vpc-a$/) });
    expect(String(fake.firewalls.get('cnvm-pmm3-allow')?.network)).toMatch(/global\/networks\/vpc-a$/);
    const missing = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', '--name', 'pmm4', '--subnet', 'nope', '--image', IMAGE_A]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toMatch(/--subnet nope: no subnetwork nope in cnvm-test\/europe-west1/);
    expect(fake.disks.has('pmm4-data')).toBe(false);
  });

  it('retries 429, a dropped connection, 503 and a per-minute rate limit, each request applied once', async () => {
    fake.injectFault({ match: /^POST \/disks$/, status: 429, reason: 'rateLimitExceeded', message: 'Rate Limit Exceeded', times: 1 });
    fake.injectFault({ match: /^POST \/disks$/, status: 0, reason: '', reset: true, times: 1 });
    fake.injectFault({ match: /^POST \/instances$/, status: 503, reason: 'backendError', message: 'Backend Error', times: 1 });
    fake.injectFault({ match: /^GET \/instances\/pmm5$/, status: 403, reason: 'rateLimitExceeded', message: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute' of service 'compute.googleapis.com'", times: 2 });
    const served = fake.faultsServed.length;
    const logged = fake.log.length;
    const r = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', '--name', 'pmm5', '--image', IMAGE_A, '--json']);
    expect(withoutProgress(r.stderr)).toBe('');
    expect(r.code).toBe(0);
    expect(fake.faultsServed.slice(served).sort()).toEqual(['403 GET /instances/pmm5', '403 GET /instances/pmm5', '429 POST /disks', '503 POST /instances', 'reset POST /disks']);
    expect(fake.log.slice(logged).filter((l) => l === 'POST /disks')).toHaveLength(3);
    expect([...fake.disks.keys()].filter((d) => d === 'pmm5-data')).toHaveLength(1);
    expect(fake.instances.get('pmm5')?.status).toBe('RUNNING');
  });

  it('stops on a stockout or a regional quota with what to do, not a retry loop', async () => {
    fake.failOperation({ match: /^POST \/instances$/, code: 'ZONE_RESOURCE_POOL_EXHAUSTED', message: "The zone 'projects/cnvm-test/zones/europe-west1-b' does not have enough resources available to fulfill the request.", times: 1 });
    const r = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', '--name', 'pmm6', '--image', IMAGE_A]);
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/does not have enough resources.*another zone with --zone/s);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    fake.injectFault({ match: /^POST \/instances$/, status: 403, reason: 'quotaExceeded', message: "Quota 'CPUS' exceeded. Limit: 24.0 in region europe-west1.", times: 1 });
    const q = await cnvm(['provision', '--skip-health-check', ...place, '--project', 'cnvm-test', '--name', 'pmm6', '--image', IMAGE_A]);
    expect(q.code).toBe(4);
    expect(q.stderr).toMatch(/Quota 'CPUS' exceeded.*raise it/s);
    expect(fake.log.filter((l) => l === 'POST /instances').length).toBeGreaterThan(0);
  });

  it('refuses an --address that is neither stable nor ephemeral, before any call', async () => {
    const before = fake.log.length;
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--name', 'pmm7', '--image', IMAGE_A, '--address', 'static']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--address static: give stable or ephemeral/);
    expect(fake.log.length).toBe(before);
  });

  it('asks for project and zone', async () => {
    const r = await cnvm(['status', '--provider', 'gcp', '--name', 'x', '--config-dir', configDir], {}, { home: emptyHome() });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/needs a project and a zone/);
  });
});

describe('GCE credentials and project', { timeout: 120_000 }, () => {
  it('no credentials: exit 4, the ways to provide them, no stack trace', async () => {
    const home = emptyHome();
    const r = await cnvm(['provision', '--skip-health-check', ...common, '--image', IMAGE_A, '--state-dir', join(home, 'state')], {}, { home });
    expect(r.code).toBe(4);
    expect(r.stderr).toMatch(/no Google credentials found/);
    expect(r.stderr).toContain('gcloud auth application-default login');
    expect(r.stderr).toContain('GOOGLE_APPLICATION_CREDENTIALS');
    expect(r.stderr).toContain(join(home, '.config/gcloud/application_default_credentials.json'));
    expect(r.stderr).not.toMatch(/\n\s+at |UnhandledPromiseRejection/);
  });

  it('GOOGLE_APPLICATION_CREDENTIALS naming a missing file: exit 4 naming it', async () => {
    const home = emptyHome();
    const r = await cnvm(['status', ...place, '--name', 'x'], { GOOGLE_APPLICATION_CREDENTIALS: join(home, 'key.json') }, { home });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(`GOOGLE_APPLICATION_CREDENTIALS names ${join(home, 'key.json')}: no such file`);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('takes the project from the ADC file, or GOOGLE_CLOUD_PROJECT, when --project is absent', async () => {
    const home = emptyHome();
    mkdirSync(join(home, '.config/gcloud'), { recursive: true });
    writeFileSync(join(home, '.config/gcloud/application_default_credentials.json'), JSON.stringify({ type: 'authorized_user', client_id: 'x', client_secret: 'y', refresh_token: 'z', quota_project_id: 'cnvm-test' }));
    const endpoint = { CNVM_GCE_ENDPOINT: `http://127.0.0.1:${fake.port}`, CNVM_PUBLIC_IP_URL: echo.url };
    const fromFile = await cnvm(['provision', '--skip-health-check', ...place, '--name', 'adc1', '--image', IMAGE_A, '--dry-run', '--json'], endpoint, { home });
    expect(withoutProgress(fromFile.stderr)).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain('"project": "cnvm-test"');
    const fromEnv = await cnvm(['provision', '--skip-health-check', ...place, '--name', 'adc1', '--image', IMAGE_A, '--dry-run', '--json'], { ...endpoint, GOOGLE_CLOUD_PROJECT: 'other-project' }, { home });
    // GOOGLE_CLOUD_PROJECT wins over the file; the fake serves only cnvm-test, so the dry run's first read says so.
    expect(fromEnv.stderr).toContain("The resource 'projects/other-project' was not found");
  });
});
