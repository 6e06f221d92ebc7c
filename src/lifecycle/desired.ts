// Desired state arithmetic: the record's state with the user's explicit changes laid over it, and the difference
// between two states in words, the way `terraform plan` shows it (`~ memory 2048 → 4096`, `+ ssh key …`).
import type { DesiredState, PmmDesired } from './record.js';

/** What the user gave explicitly on this command line; everything absent keeps the record's value. */
export interface DesiredOverrides {
  image?: DesiredState['image'];
  dataSizeGiB?: number;
  memoryMiB?: number;
  cpus?: number;
  sshKeys?: string[];
  pmm?: PmmDesired;
  placement?: DesiredState['placement'];
  stage?: string;
}

export function applyOverrides(base: DesiredState, o: DesiredOverrides): DesiredState {
  return {
    image: o.image ?? base.image,
    dataSizeGiB: o.dataSizeGiB ?? base.dataSizeGiB,
    ...(o.memoryMiB ?? base.memoryMiB ? { memoryMiB: (o.memoryMiB ?? base.memoryMiB) as number } : {}),
    ...(o.cpus ?? base.cpus ? { cpus: (o.cpus ?? base.cpus) as number } : {}),
    sshKeys: o.sshKeys ?? base.sshKeys,
    pmm: { ...base.pmm, ...o.pmm, ...(o.pmm?.env || base.pmm.env ? { env: { ...base.pmm.env, ...o.pmm?.env } } : {}) },
    placement: { ...base.placement, ...o.placement },
    ...(o.stage ?? base.stage ? { stage: (o.stage ?? base.stage) as string } : {}),
  };
}

export interface Change {
  /** `memory`, `pmm.tag`, `ssh key`, `placement.network`, … */
  what: string;
  op: '~' | '+' | '-';
  from?: string;
  to?: string;
}

const show = (v: unknown): string => (v === undefined ? '(default)' : Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v));
/** Keys are long: show the type, the start of the key and the comment. */
const shortKey = (k: string): string => {
  const [type, body = '', ...comment] = k.split(/\s+/);
  return `${type} ${body.slice(0, 12)}…${comment.length ? ` ${comment.join(' ')}` : ''}`;
};

export function diffDesired(before: DesiredState, after: DesiredState): Change[] {
  const changes: Change[] = [];
  const scalar = (what: string, a: unknown, b: unknown): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) changes.push({ what, op: '~', from: show(a), to: show(b) });
  };
  if (before.image.id !== after.image.id) changes.push({ what: 'image', op: '~', from: before.image.version ?? before.image.id, to: after.image.version ?? after.image.id });
  scalar('data size GiB', before.dataSizeGiB, after.dataSizeGiB);
  scalar('memory MiB', before.memoryMiB, after.memoryMiB);
  scalar('cpus', before.cpus, after.cpus);
  scalar('pmm.tag', before.pmm.tag, after.pmm.tag);
  scalar('stage', before.stage, after.stage);
  scalar('pmm.publish_http', before.pmm.publishHttp, after.pmm.publishHttp);
  const envKeys = new Set([...Object.keys(before.pmm.env ?? {}), ...Object.keys(after.pmm.env ?? {})]);
  for (const k of [...envKeys].sort()) {
    const a = before.pmm.env?.[k];
    const b = after.pmm.env?.[k];
    // Values may be secrets (PMM_*PASSWORD*): say that a value changed, never which.
    if (a === undefined && b !== undefined) changes.push({ what: `pmm.env.${k}`, op: '+' });
    else if (a !== undefined && b === undefined) changes.push({ what: `pmm.env.${k}`, op: '-' });
    else if (a !== b) changes.push({ what: `pmm.env.${k}`, op: '~', from: '…', to: '…' });
  }
  const secretNames = (d: DesiredState): string[] => d.pmm.secretEnv ?? [];
  for (const k of secretNames(after)) if (!secretNames(before).includes(k)) changes.push({ what: `pmm.secret_env.${k}`, op: '+' });
  for (const k of secretNames(before)) if (!secretNames(after).includes(k)) changes.push({ what: `pmm.secret_env.${k}`, op: '-' });
  for (const k of after.sshKeys) if (!before.sshKeys.includes(k)) changes.push({ what: 'ssh key', op: '+', to: shortKey(k) });
  for (const k of before.sshKeys) if (!after.sshKeys.includes(k)) changes.push({ what: 'ssh key', op: '-', from: shortKey(k) });
  const placementKeys = new Set([...Object.keys(before.placement), ...Object.keys(after.placement)]);
  for (const k of [...placementKeys].sort()) scalar(k, before.placement[k], after.placement[k]);
  return changes;
}

export function formatChange(c: Change): string {
  if (c.op === '~') return `~ ${c.what} ${c.from ?? ''} → ${c.to ?? ''}`.replace(/\s+$/, '');
  return `${c.op} ${c.what}${c.op === '+' && c.to ? ` ${c.to}` : c.op === '-' && c.from ? ` ${c.from}` : ''}`;
}
