// Boots the test guest (test/guest/build.sh) under plain qemu with TCG: KVM on this kind of machine is kvm_pvm,
// which cannot boot a stock kernel. User-mode networking with `restrict=on`, so the guest reaches nothing outside;
// the only way in is PMM's HTTPS port forwarded to 127.0.0.1. The serial console goes to a file. A VGA card is
// needed even with no display: without one, the boot stops in the BIOS before syslinux prints anything.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';

export const GUEST_DIR = new URL('.', import.meta.url).pathname;

/** Why the guest cannot be built or booted here, or undefined when it can. */
export function guestUnavailable(): string | undefined {
  if (process.env.CNVM_SKIP_GUEST === '1') return 'CNVM_SKIP_GUEST=1';
  if (process.platform !== 'linux' || process.arch !== 'x64') return 'the test guest is an x86_64 Linux image';
  if (process.getuid?.() !== 0) return 'building the test guest needs root (debootstrap, chroot, loop devices)';
  if (!existsSync('/dev/loop-control')) return 'no loop devices (/dev/loop-control)';
  const tools = ['/usr/bin/qemu-system-x86_64', '/usr/bin/apt-get'];
  if (!tools.some((t) => existsSync(t))) return 'neither qemu-system-x86_64 nor apt-get to install it';
  return undefined;
}

/**
 * Builds the guest (cached by the hash of its inputs) and returns the directory with a/b/c.qcow2. Asynchronous: a
 * build takes minutes, and a blocked test worker loses its connection to vitest.
 */
export async function buildGuest(): Promise<string> {
  const child = spawn('bash', [join(GUEST_DIR, 'build.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
  if (code !== 0) throw new Error(`test/guest/build.sh failed (exit ${code}); its log is above`);
  const dir = out.trim().split('\n').pop() ?? '';
  for (const v of ['a', 'b', 'c']) if (!existsSync(join(dir, `${v}.qcow2`))) throw new Error(`build.sh printed ${dir}, which has no ${v}.qcow2`);
  return dir;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export interface GuestSpec {
  /** Base image (a.qcow2 …): each VM boots from its own qcow2 overlay on it, as cnvm's libvirt provider does. */
  image: string;
  /** Raw data disk, attached as virtio with serial pmm-data (the libvirt provider's naming); none: a diskless boot. */
  dataDisk?: string;
  ignitionFile: string;
  dir: string;
  name: string;
  /** Boot an existing VM's disk again (a restart) instead of a new overlay; the console log gets its own file. */
  restart?: string;
}

export interface Guest {
  console: string;
  port: number;
  process: ChildProcess;
  exited: Promise<number | null>;
  consoleText(): string;
  qmp(command: string): Promise<unknown>;
}

// A test run that is interrupted must not leave guests running on a shared machine.
const running = new Set<ChildProcess>();
for (const signal of ['exit', 'SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const child of running) child.kill('SIGKILL');
    if (signal !== 'exit') process.exit(1);
  });
}

export async function bootGuest(spec: GuestSpec): Promise<Guest> {
  const overlay = join(spec.dir, `${spec.restart ?? spec.name}.qcow2`);
  if (!spec.restart) execFileSync('qemu-img', ['create', '-q', '-f', 'qcow2', '-F', 'qcow2', '-b', spec.image, overlay]);
  const port = await freePort();
  const consoleFile = join(spec.dir, `${spec.name}.console.log`);
  const qmpSocket = join(spec.dir, `${spec.name}.qmp`);
  const args = [
    '-nodefaults', '-display', 'none', '-vga', 'std', '-machine', 'pc', '-accel', 'tcg,thread=multi', '-smp', '2', '-m', '1536',
    '-serial', `file:${consoleFile}`,
    '-qmp', `unix:${qmpSocket},server=on,wait=off`,
    // bootindex: SeaBIOS would otherwise try the (blank) data disk first and stop at "not a bootable disk".
    '-drive', `file=${overlay},if=none,id=boot,format=qcow2`,
    '-device', 'virtio-blk-pci,drive=boot,bootindex=1',
    ...(spec.dataDisk ? ['-drive', `file=${spec.dataDisk},if=none,id=data,format=raw`, '-device', 'virtio-blk-pci,drive=data,serial=pmm-data'] : []),
    '-fw_cfg', `name=opt/com.coreos/config,file=${spec.ignitionFile}`,
    '-netdev', `user,id=net0,restrict=on,hostfwd=tcp:127.0.0.1:${port}-:443`,
    '-device', 'virtio-net-pci,netdev=net0',
  ];
  const child = spawn('qemu-system-x86_64', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  void exited.then((code) => {
    if (code !== 0 && code !== null && stderr) process.stderr.write(`qemu ${spec.name} exited ${code}: ${stderr}\n`);
  });
  running.add(child);
  void exited.then(() => running.delete(child));
  // Without systemd's colour codes, so patterns can span what the console highlights.
  // eslint-disable-next-line no-control-regex -- ESC is exactly what is being removed
  const consoleText = (): string => (existsSync(consoleFile) ? readFileSync(consoleFile, 'latin1').replace(/\x1b\[[0-9;]*m/g, '') : '');
  return { console: consoleFile, port, process: child, exited, consoleText, qmp: (command) => qmp(qmpSocket, command) };
}

/** One QMP command on a fresh connection (capabilities handshake first). */
async function qmp(socket: string, command: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const conn = connect(socket);
    let buffer = '';
    let step = 0;
    conn.on('error', reject);
    conn.on('data', (d) => {
      buffer += d.toString();
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buffer.slice(0, nl)) as Record<string, unknown>;
        buffer = buffer.slice(nl + 1);
        if (msg.event) continue;
        if (step === 0) conn.write(`${JSON.stringify({ execute: 'qmp_capabilities' })}\n`);
        else if (step === 1) conn.write(`${JSON.stringify({ execute: command })}\n`);
        else {
          conn.end();
          if (msg.error) reject(new Error(JSON.stringify(msg.error)));
          else resolve(msg.return);
        }
        step++;
      }
    });
  });
}

/** ACPI power button, as `virsh shutdown` does; a hard stop only if the guest has not powered off in time. */
export async function shutdownGuest(guest: Guest, timeoutMs = 180_000): Promise<'clean' | 'killed'> {
  if (guest.process.exitCode !== null) return 'clean';
  await guest.qmp('system_powerdown').catch(() => undefined);
  const done = await Promise.race([guest.exited.then(() => true), sleep(timeoutMs).then(() => false)]);
  if (done) return 'clean';
  guest.process.kill('SIGKILL');
  await guest.exited;
  return 'killed';
}

export async function killGuest(guest: Guest): Promise<void> {
  if (guest.process.exitCode === null && guest.process.signalCode === null) {
    guest.process.kill('SIGKILL');
    await guest.exited;
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until the console matches, or fails with the console's tail (what the guest said instead). */
export async function waitForConsole(guest: Guest, pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = guest.consoleText().match(pattern);
    if (match) return match;
    if (guest.process.exitCode !== null || Date.now() > deadline) {
      const tail = guest.consoleText().split('\n').slice(-40).join('\n');
      throw new Error(`console never matched ${pattern} (qemu ${guest.process.exitCode === null ? 'running' : 'exited'}); last lines:\n${tail}`);
    }
    await sleep(2000);
  }
}

export interface HttpsAnswer {
  status: number;
  body: string;
}

/** GET over HTTPS to the forwarded port on 127.0.0.1 (the stand-in's certificate is self-signed, like PMM's). */
export async function httpsGet(port: number, path: string, auth?: string): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'GET', rejectUnauthorized: false, timeout: 15_000, ...(auth ? { auth } : {}) },
      (res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

/** Polls until `accept` holds for an answer; connection errors (guest still booting) are retried. */
export async function pollHttps(guest: Guest, path: string, accept: (a: HttpsAnswer) => boolean, timeoutMs: number, auth?: string): Promise<HttpsAnswer> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  for (;;) {
    try {
      const answer = await httpsGet(guest.port, path, auth);
      if (accept(answer)) return answer;
      last = `HTTP ${answer.status} ${answer.body.slice(0, 200)}`;
    } catch (e) {
      last = (e as Error).message;
    }
    if (guest.process.exitCode !== null || Date.now() > deadline) {
      const tail = guest.consoleText().split('\n').slice(-40).join('\n');
      throw new Error(`${path} on 127.0.0.1:${guest.port}: ${last}; console's last lines:\n${tail}`);
    }
    await sleep(3000);
  }
}
