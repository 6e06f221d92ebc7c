// The version-skew check through the built CLI, on every provider: an image whose Ignition cannot read the VM's
// config (spec 3.3.0) is refused with exit 2 before any call that changes anything, in a dry run and for real; an
// image that reads it gets the check named in the plan. Peers: the EC2 and Compute fakes, real libvirt when present.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { libvirtSkipReason, libvirtTitle } from '../support/libvirt-probe.js';
import { runCli, type CliRun } from '../support/run-cli.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { startFakeGce, type FakeGce } from '../support/fake-gce.js';
import { startEchoIp, type EchoIp } from '../support/gcp-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-skew-'));
chmodSync(dir, 0o755);
const configDir = join(dir, 'providers');
mkdirSync(configDir);
let ec2: FakeEc2;
let gce: FakeGce;
let echo: EchoIp;

function cnvm(args: string[]): Promise<CliRun> {
  return runCli(args, { env: { CNVM_EC2_ENDPOINT: ec2.endpoint, CNVM_GCE_ENDPOINT: `http://127.0.0.1:${gce.port}`, CNVM_GCE_RETRY_BASE_MS: '5', CNVM_PUBLIC_IP_URL: echo.url, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret' } });
}

beforeAll(async () => {
  ec2 = await startFakeEc2('eu-west-1');
  gce = await startFakeGce('cnvm-test', 'europe-west1-b');
  echo = await startEchoIp();
});
afterAll(async () => {
  await ec2.close();
  await gce.close();
  rmSync(dir, { recursive: true, force: true });
});

// The libvirt case makes no domain (refused, or a dry run): it needs only virsh and qemu-img, so it stays here.
const libvirtSkip = libvirtSkipReason();
const blank = join(dir, 'blank.qcow2');

const providers: { name: string; args: () => string[]; changed: () => string[]; skip?: boolean }[] = [
  {
    name: 'aws',
    args: () => ['--provider', 'aws', '--region', 'eu-west-1', '--image', [...ec2.images.keys()][0] as string],
    changed: () => ec2.log.filter((a) => !/^Describe|^Get/.test(a)),
  },
  {
    name: 'gcp',
    args: () => ['--provider', 'gcp', '--project', 'cnvm-test', '--zone', 'europe-west1-b', '--image', 'projects/fedora-coreos-cloud/global/images/fedora-coreos-a'],
    changed: () => gce.log.filter((a) => !a.startsWith('GET ') && !a.endsWith('/wait')),
  },
  {
    name: 'libvirt',
    skip: libvirtSkip !== undefined,
    args: () => ['--provider', 'libvirt', '--storage-dir', join(dir, 'store'), '--network', 'none', '--image', blank],
    changed: () => (existsSync(join(dir, 'store')) ? readdirSync(join(dir, 'store')) : []),
  },
];

for (const p of providers) {
  describe.skipIf(p.skip === true)(p.name === 'libvirt' ? libvirtTitle('version skew on libvirt') : `version skew on ${p.name}`, () => {
    const vm = (): string[] => [...p.args(), '--name', `skew-${p.name}`, '--config-dir', configDir, '--state-dir', join(dir, `state-${p.name}`), '--skip-health-check'];

    it('an image whose Ignition cannot read the config: exit 2 naming both versions, nothing changed', async () => {
      if (p.name === 'libvirt' && !existsSync(blank)) spawnSync('qemu-img', ['create', '-q', '-f', 'qcow2', blank, '64M']);
      for (const extra of [['--dry-run'], []]) {
        const r = await cnvm(['provision', ...vm(), '--image-release', 'ignition-2.9.0', ...extra]);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stderr).toMatch(/version skew: the VM's config is Ignition spec 3\.3\.0, but Ignition 2\.9\.0 cannot read Ignition spec 3\.3\.0: spec 3\.3\.0 needs Ignition ≥ 2\.11\.0 .*it reads ≤ 3\.2\.0 \(Butane fcos 1\.3\.0\)/);
        expect(r.stderr).not.toMatch(/\n\s+at /);
      }
      expect(p.changed()).toEqual([]);
      expect(existsSync(join(dir, `state-${p.name}`, 'vms'))).toBe(false);
    });

    it('an image that reads it: the dry run names the check', async () => {
      const r = await cnvm(['provision', ...vm(), '--image-release', '42.20250901.3.0', '--dry-run', '--json']);
      expect(r.code, r.stderr).toBe(0);
      const plan = JSON.parse(r.stdout) as { notes: string[] };
      expect(plan.notes).toContain('version check: Fedora CoreOS 42.20250901.3.0 reads Ignition spec 3.3.0');
      const bad = await cnvm(['provision', ...vm(), '--image-release', 'fcos-latest', '--dry-run']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--image-release "fcos-latest": give a Fedora CoreOS build/);
    });
  });
}

