// `cnvm list | ssh | console | logs` end to end: the built CLI with the real EC2 client against the stateful fake
// EC2 API (CNVM_EC2_ENDPOINT), and a local `ssh` executable first on PATH that records the argv it is given
// (nothing is sent to the VMs' addresses). The pure builders are checked directly. Needs `npm run build`.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ignitionLines, journalCommand, sshArgv, sshHost } from '../../src/cli/ssh-command.js';
import { listRows } from '../../src/cli/vm-access.js';
import { runCli } from '../support/run-cli.js';
import { startFakeEc2, type FakeEc2 } from '../support/fake-ec2.js';
import { usePublicIpEcho } from '../support/aws-harness.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-access-'));
const configDir = join(dir, 'providers');
const binDir = join(dir, 'bin');
const sshLog = join(dir, 'ssh-argv');
mkdirSync(configDir);
mkdirSync(binDir);
// The fake ssh: records its argv one per line, prints two journal-like lines, exits with FAKE_SSH_EXIT.
writeFileSync(join(binDir, 'ssh'), `#!/bin/sh\nprintf '%s\\n' "$@" > "${sshLog}"\necho "Dec 02 pmm-server[1]: started"\necho "Dec 02 pmm-server[1]: ready"\nexit "\${FAKE_SSH_EXIT:-0}"\n`);
chmodSync(join(binDir, 'ssh'), 0o755);
let fake: FakeEc2;
const state = join(dir, 'state');
const scope = ['--provider', 'aws', '--region', 'eu-west-1', '--config-dir', configDir, '--state-dir', state];

function cnvm(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return runCli(args, { env: { CNVM_EC2_ENDPOINT: fake.endpoint, AWS_ACCESS_KEY_ID: 'AKIDTEST', AWS_SECRET_ACCESS_KEY: 'test-secret', PATH: `${binDir}:${process.env.PATH ?? ''}`, ...env } });
}

let addressA = '';
beforeAll(async () => {
  // No --allow-from: cnvm opens 443 and 22 to what the (loopback) echo service says this machine's address is.
  await usePublicIpEcho();
  fake = await startFakeEc2('eu-west-1');
  for (const name of ['pmm-a', 'pmm-b']) {
    const r = await cnvm(['provision', '--skip-health-check', ...scope, '--name', name, '--image', 'ami-0aaaaaaaaaaaaaaaa', '--json']);
    if (r.code !== 0) throw new Error(`provision ${name}: ${r.stderr}`);
    if (name === 'pmm-a') addressA = (JSON.parse(r.stdout) as { vm: { addresses: string[] } }).vm.addresses[0] as string;
  }
  const d = await cnvm(['destroy', ...scope, '--name', 'pmm-b']);
  if (d.code !== 0) throw new Error(`destroy: ${d.stderr}`);
}, 120_000);
afterAll(async () => {
  await fake.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('cnvm list', () => {
  it('a table of every cnvm VM, and a kept data volume without a VM', async () => {
    const r = await cnvm(['list', ...scope]);
    expect(r.code).toBe(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header?.split(/\s{2,}/)).toEqual(['NAME', 'GEN', 'VM', 'STATE', 'IMAGE', 'URL', 'DATA VOLUME']);
    expect(rows).toHaveLength(2);
    expect(rows[0]?.split(/\s{2,}/)).toEqual(['pmm-a', '1', 'pmm-a', 'running', 'ami-0aaaaaaaaaaaaaaaa', `https://${addressA}/`, 'pmm-a-data']);
    expect(rows[1]?.split(/\s{2,}/)).toEqual(['pmm-b', '-', '-', 'no VM', '-', '-', 'pmm-b-data']);
  });

  it('--json: one row object per VM in the envelope', async () => {
    const r = await cnvm(['list', ...scope, '--json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout) as { command: string; provider: string; vms: Record<string, unknown>[] };
    expect(out).toMatchObject({ command: 'list', ok: true, provider: 'aws' });
    expect(out.vms[0]).toMatchObject({ name: 'pmm-a', generation: 1, vm: 'pmm-a', state: 'running', url: `https://${addressA}/`, dataVolume: 'pmm-a-data' });
    expect(out.vms[0]?.dataVolumeId).toMatch(/^vol-/);
    expect(out.vms[1]).toMatchObject({ name: 'pmm-b', vm: null, state: 'no VM', dataVolume: 'pmm-b-data' });
  });
});

describe('cnvm console and logs --ignition', () => {
  const consoleText = '[    0.1] Linux version 6.11\r\n[    2.0] ignition[612]: files: createFilesystemsFiles: op(1): [started]\r\n\x1b[0;32m[  OK  ]\x1b[0m Finished ignition-files.service\r\n[    3.0] ignition[612]: Ignition finished successfully\r\n[    4.0] pmm-server.service: started\r\n';
  beforeAll(() => {
    const inst = [...fake.instances.values()].find((i) => i.tags.some((t) => t.key === 'Name' && t.value === 'pmm-a'));
    if (!inst) throw new Error('no pmm-a instance');
    fake.consoles.set(inst.id, consoleText);
  });

  it('console prints what the provider returns, --lines the last N, --json in the envelope', async () => {
    const all = await cnvm(['console', 'pmm-a', ...scope]);
    expect(all.code).toBe(0);
    expect(all.stdout).toBe(consoleText);
    const tail = await cnvm(['console', 'pmm-a', ...scope, '--lines', '1']);
    expect(tail.stdout).toBe('[    4.0] pmm-server.service: started\r\n');
    const json = JSON.parse((await cnvm(['console', 'pmm-a', ...scope, '--json'])).stdout) as { vm: string; output: string };
    expect(json).toMatchObject({ command: 'console', ok: true, name: 'pmm-a', vm: 'pmm-a', output: consoleText });
  });

  it("logs --ignition: Ignition's lines from the console, colour codes removed, no ssh", async () => {
    rmSync(sshLog, { force: true });
    const r = await cnvm(['logs', 'pmm-a', ...scope, '--ignition']);
    expect(r.code).toBe(0);
    expect(r.stdout.split('\n').filter(Boolean)).toEqual([
      '[    2.0] ignition[612]: files: createFilesystemsFiles: op(1): [started]',
      '[  OK  ] Finished ignition-files.service',
      '[    3.0] ignition[612]: Ignition finished successfully',
    ]);
    expect(() => readFileSync(sshLog)).toThrow();
  });

  it('a VM with no current VM is not found (exit 5)', async () => {
    const r = await cnvm(['console', 'pmm-b', ...scope, '--json']);
    expect(r.code).toBe(5);
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: false, command: 'console', error: { kind: 'not-found', exitCode: 5 } });
  });
});

describe('cnvm ssh and logs over ssh', () => {
  const knownHosts = (vm: string) => join(state, 'known_hosts', `aws-${vm}`);
  const expectedBase = (vm: string) => ['ssh', '-o', `UserKnownHostsFile=${knownHosts(vm)}`, '-o', 'StrictHostKeyChecking=accept-new'];

  it('--dry-run prints the ssh command line: core at the reported address, a known-hosts file per generation', async () => {
    const r = await cnvm(['ssh', 'pmm-a', ...scope, '-i', '/keys/id', '--dry-run', '--', 'sudo', 'podman', 'ps']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${[...expectedBase('pmm-a'), '-i', '/keys/id', '-l', 'core', addressA, '--', 'sudo', 'podman', 'ps'].join(' ')}\n`);
    const json = JSON.parse((await cnvm(['ssh', ...scope, '--name', 'pmm-a', '--dry-run', '--json'])).stdout) as { argv: string[] };
    expect(json.argv).toEqual([...expectedBase('pmm-a'), '-l', 'core', addressA]);
  });

  it('runs the system ssh with that argv and exits with its status', async () => {
    const r = await cnvm(['ssh', 'pmm-a', ...scope, '--ssh-option', 'ConnectTimeout=5', '--', 'uptime'], { FAKE_SSH_EXIT: '3' });
    expect(r.code).toBe(3);
    expect(r.stdout).toContain('pmm-server[1]: started');
    expect(readFileSync(sshLog, 'utf8').trimEnd().split('\n')).toEqual([...expectedBase('pmm-a').slice(1), '-o', 'ConnectTimeout=5', '-l', 'core', addressA, '--', 'uptime']);
  });

  it('logs: journalctl for the unit over ssh; --json gives the lines', async () => {
    const dry = await cnvm(['logs', 'pmm-a', ...scope, '--unit', 'pmm-data-prepare', '-n', '50', '--follow', '--dry-run']);
    expect(dry.stdout.trim().split(' ').slice(-8)).toEqual(['--', 'journalctl', '--no-pager', '-u', 'pmm-data-prepare.service', '-n', '50', '-f']);
    const r = await cnvm(['logs', 'pmm-a', ...scope, '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ command: 'logs', source: 'journal', unit: 'pmm-server', lines: ['Dec 02 pmm-server[1]: started', 'Dec 02 pmm-server[1]: ready'] });
    expect(readFileSync(sshLog, 'utf8').trimEnd().split('\n').slice(-8)).toEqual([addressA, '--', 'journalctl', '--no-pager', '-u', 'pmm-server.service', '-n', '200']);
  });

  it('refuses a unit name that is not one, and --follow with --json', async () => {
    expect((await cnvm(['logs', 'pmm-a', ...scope, '--unit', 'x; rm -rf /'])).code).toBe(2);
    expect((await cnvm(['logs', 'pmm-a', ...scope, '--follow', '--json'])).code).toBe(2);
  });
});

describe('help of the new commands', () => {
  it('lists only that command’s flags, under headings, with examples', async () => {
    const r = await cnvm(['help', 'ssh']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ssh to the VM/);
    expect(r.stdout).toContain('Usage: cnvm ssh NAME --provider P');
    expect(r.stdout).toMatch(/\nHow to connect:\n {2}-i, --identity VALUE/);
    expect(r.stdout).toMatch(/\nExamples:\n {2}cnvm ssh pmm1 --provider libvirt\n/);
    expect(r.stdout).not.toContain('--delete-data');
    expect(r.stdout).not.toContain('--memory');
    const logs = await cnvm(['logs', '--help']);
    expect(logs.stdout).toMatch(/What to show:\n[\s\S]*--ignition/);
    const destroy = await cnvm(['help', 'destroy']);
    expect(destroy.stdout).toMatch(/Data:\n[\s\S]*--delete-data/);
    expect(destroy.stdout).not.toContain('--skip-health-check');
  });
});

describe('builders', () => {
  it('ssh refuses a forwarded HTTPS endpoint (user-mode networking) with what to do instead', () => {
    expect(sshHost('pmm1', '10.0.0.5')).toBe('10.0.0.5');
    expect(() => sshHost('pmm1-g2', '127.0.0.1:43211')).toThrow(/only through 127\.0\.0\.1:43211, a port forwarded to PMM's HTTPS.*no ssh port is forwarded\. Use cnvm console pmm1/);
    expect(() => sshHost('pmm1', undefined)).toThrow(/reports no address/);
    expect(sshArgv({ vmName: 'v', address: 'fd00::5', knownHostsFile: '/k' }, { tty: true, command: ['ls'] })).toEqual(['ssh', '-o', 'UserKnownHostsFile=/k', '-o', 'StrictHostKeyChecking=accept-new', '-t', '-l', 'core', 'fd00::5', '--', 'ls']);
  });

  it('journalctl: a unit name gets .service unless it has a type; lines and follow', () => {
    expect(journalCommand('pmm-server')).toEqual(['journalctl', '--no-pager', '-u', 'pmm-server.service', '-n', '200']);
    expect(journalCommand('pmm-data.mount', { lines: 5, follow: true })).toEqual(['journalctl', '--no-pager', '-u', 'pmm-data.mount', '-n', '5', '-f']);
  });

  it("Ignition's lines, and list rows grouped by owner with kept volumes", () => {
    expect(ignitionLines('a\nignition[1]: done\nb')).toEqual(['ignition[1]: done']);
    const rows = listRows(
      [
        { name: 'x-g2', id: 'i-2', state: 'running', image: 'img2', volumes: [{ volumeId: 'v1', deviceName: 'pmm-data' }], addresses: ['127.0.0.1:4443'], owner: { name: 'x', generation: 2 } },
        { name: 'x', id: 'i-1', state: 'stopped', image: 'img1', volumes: [], addresses: [], owner: { name: 'x', generation: 1 } },
      ],
      [{ id: 'v1', name: 'x-data', attachedTo: 'x-g2' }, { id: 'v2', name: 'y-data' }],
    );
    expect(rows.map((r) => [r.name, r.generation, r.vm, r.url, r.dataVolume])).toEqual([
      ['x', 1, 'x', null, null],
      ['x', 2, 'x-g2', 'https://127.0.0.1:4443/', 'x-data'],
      ['y', null, null, null, 'y-data'],
    ]);
  });
});
