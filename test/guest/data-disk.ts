// Looks at the PMM data disk from the host, with the guest powered off: what Ignition made of it (GPT partition,
// XFS label and UUID) and what the PMM stand-in left under /srv. Independent of the guest's own view.
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PasswordRecord {
  salt: string;
  sha256: string;
  at: string;
}

export interface DataDiskView {
  label: string | undefined;
  partitionName: string | undefined;
  fsType: string | undefined;
  fsLabel: string | undefined;
  fsUuid: string | undefined;
  /** Written once by the stand-in on a fresh /srv. */
  marker: string | undefined;
  passwordRecords: PasswordRecord[];
  prepared: boolean;
  /** Owner of /var/lib/pmm/srv (the recipe's chown: 1000:0). */
  srvOwner: string | undefined;
}

/** What the stand-in stores: SHA-256 over salt bytes then the password. */
export function passwordHash(saltHex: string, password: string): string {
  return createHash('sha256').update(Buffer.concat([Buffer.from(saltHex, 'hex'), Buffer.from(password)])).digest('hex');
}

export function createDataDisk(path: string, sizeGiB: number): void {
  execFileSync('truncate', ['-s', `${sizeGiB}G`, path]);
}

interface SfdiskTable {
  partitiontable: { label: string; sectorsize?: number; partitions?: { start: number; name?: string }[] };
}

export function inspectDataDisk(path: string): DataDiskView {
  let table: SfdiskTable | undefined;
  try {
    table = JSON.parse(execFileSync('sfdisk', ['-J', path], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as SfdiskTable;
  } catch {
    table = undefined;
  }
  const view: DataDiskView = {
    label: table?.partitiontable.label,
    partitionName: undefined,
    fsType: undefined,
    fsLabel: undefined,
    fsUuid: undefined,
    marker: undefined,
    passwordRecords: [],
    prepared: false,
    srvOwner: undefined,
  };
  const part = table?.partitiontable.partitions?.[0];
  if (!part) return view;
  view.partitionName = part.name;
  const offset = part.start * (table?.partitiontable.sectorsize ?? 512);
  const probe = execFileSync('blkid', ['-p', '-o', 'export', '-O', String(offset), path], { encoding: 'utf8' });
  const field = (name: string): string | undefined => probe.match(new RegExp(`^${name}=(.*)$`, 'm'))?.[1];
  view.fsType = field('TYPE');
  view.fsLabel = field('LABEL');
  view.fsUuid = field('UUID');
  if (view.fsType !== 'xfs') return view;
  const mnt = mkdtempSync(join(tmpdir(), 'cnvm-data-'));
  // Read-only, no log recovery: looking must not change the disk the next VM gets.
  execFileSync('mount', ['-t', 'xfs', '-o', `ro,norecovery,loop,offset=${offset}`, path, mnt]);
  try {
    const srv = join(mnt, 'srv');
    view.prepared = existsSync(join(mnt, '.cnvm-prepared'));
    if (existsSync(srv)) view.srvOwner = execFileSync('stat', ['-c', '%u:%g', srv], { encoding: 'utf8' }).trim();
    const marker = join(srv, 'standin/created');
    if (existsSync(marker)) view.marker = readFileSync(marker, 'utf8').trim();
    const records = join(srv, 'standin/admin-password.jsonl');
    if (existsSync(records)) {
      view.passwordRecords = readFileSync(records, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as PasswordRecord);
    }
  } finally {
    execFileSync('umount', [mnt]);
    rmSync(mnt, { recursive: true, force: true });
  }
  return view;
}
