// moto's EC2 server (an independent implementation of the EC2 Query API, installed with Python) on a free loopback
// port, so the EC2 adapter is checked against a peer the project did not write. Started once per test file and reset
// (POST /moto-api/reset) between harnesses; killed in cleanup. AMI validation is on, so an unknown AMI fails as on
// EC2 (InvalidAMIID.NotFound); moto ships a list of fake public AMIs and a default VPC with one subnet per zone.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { createServer } from 'node:net';

const execFileAsync = promisify(execFile);

export interface MotoServer {
  endpoint: string;
  port: number;
  /** Two of moto's own AMI ids (a real RunInstances needs an image the region knows). */
  amis: [string, string];
  /** Forgets every resource (moto's reset endpoint): a fresh EC2 account for the next harness. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

/** The static credentials tests hand the SDK; moto accepts any. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test-secret' };

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

async function answers(url: string): Promise<boolean> {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
    return res.ok;
  } catch {
    return false;
  }
}

export async function startMoto(region = 'eu-west-1'): Promise<MotoServer> {
  // The SDK must never look for instance-role credentials on 169.254.169.254: tests talk to loopback only.
  process.env.AWS_EC2_METADATA_DISABLED = 'true';
  // The pinned SDK supports node 20; its notice about later releases is noise in test output.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
  const port = await freePort();
  const child: ChildProcess = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, EC2_ENABLE_AMI_VALIDATION: 'true', MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const endpoint = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  while (!(await answers(`${endpoint}/moto-api/`))) {
    if (child.exitCode !== null) throw new Error(`moto.server exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto.server did not answer on ${endpoint} within 60 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const amis = motoAmis(endpoint, region);
  return {
    endpoint,
    port,
    amis,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset: HTTP ${res.status}`);
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        // moto's development server may take its time over SIGTERM on a loaded machine: SIGKILL after 3 s.
        const hard = setTimeout(() => child.kill('SIGKILL'), 3000);
        child.once('exit', () => {
          clearTimeout(hard);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

/**
 * Two AMIs moto knows in the region, found with boto3 (the reference Python client, independent of the SDK under
 * test): ids of the `ami-` + hex shape cnvm's --image check accepts.
 */
function motoAmis(endpoint: string, region: string): [string, string] {
  const script = [
    'import boto3, sys',
    `c = boto3.client("ec2", endpoint_url="${endpoint}", region_name="${region}", aws_access_key_id="a", aws_secret_access_key="b")`,
    'ids = sorted(i["ImageId"] for i in c.describe_images(Owners=["amazon"])["Images"])',
    'print("\\n".join(ids))',
  ].join('\n');
  const r = spawnSync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } });
  if (r.status !== 0) throw new Error(`boto3 DescribeImages on moto failed: ${r.stderr}`);
  const ids = r.stdout.split('\n').filter((id) => /^ami-[0-9a-f]{8,17}$/.test(id));
  if (ids.length < 2) throw new Error(`moto lists fewer than two AMIs in ${region}`);
  return [ids[0] as string, ids[1] as string];
}

/**
 * Runs a boto3 snippet against the endpoint (`c` is the EC2 client) and parses the JSON it prints. Asynchronous:
 * the fake EC2 server answers from this same process.
 */
export async function boto3Json<T>(endpoint: string, body: string, region = 'eu-west-1'): Promise<T> {
  const script = [
    'import boto3, json',
    `c = boto3.client("ec2", endpoint_url="${endpoint}", region_name="${region}", aws_access_key_id="a", aws_secret_access_key="b")`,
    body,
  ].join('\n');
  const { stdout } = await execFileAsync('python3', ['-c', script], { encoding: 'utf8', env: { ...process.env, AWS_EC2_METADATA_DISABLED: 'true' } }).catch((err: unknown) => {
    throw new Error(`boto3 snippet failed: ${(err as { stderr?: string }).stderr ?? String(err)}`);
  });
  return JSON.parse(stdout) as T;
}
