// Shorthands for lifecycle tests: a state store in a temporary directory and provision/upgrade requests built the
// way the CLI builds them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DesiredOverrides } from '../../src/lifecycle/desired.js';
import { provision, type PasswordChoice, type ProvisionInput, type ProvisionResult } from '../../src/lifecycle/provision.js';
import type { DesiredState } from '../../src/lifecycle/record.js';
import { StateStore } from '../../src/lifecycle/store.js';
import type { ImageRef, Provider } from '../../src/provider/types.js';

export function tempStore(): StateStore & { cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'cnvm-state-'));
  return Object.assign(new StateStore(dir), { cleanup: () => rmSync(dir, { recursive: true, force: true }) });
}

export function desired(image: ImageRef, extra: Partial<DesiredState> = {}): DesiredState {
  return { image, dataSizeGiB: 1, sshKeys: [], pmm: {}, placement: {}, ...extra };
}

export function provisionInput(name: string, image: ImageRef, options: { password?: PasswordChoice; defaults?: Partial<DesiredState>; overrides?: DesiredOverrides } = {}): ProvisionInput {
  return { name, defaults: desired(image, options.defaults), overrides: options.overrides ?? {}, ...(options.password ? { password: options.password } : {}) };
}

export function provisionVm(provider: Provider, store: StateStore, name: string, image: ImageRef, options: Parameters<typeof provisionInput>[2] = {}): Promise<ProvisionResult> {
  return provision(provider, store, provisionInput(name, image, options));
}

/** The PMM admin password in a rendered Ignition config (the root-only file), if there is one. */
export function passwordInConfig(ignition: string): string | undefined {
  const config = JSON.parse(ignition) as { storage?: { files?: { path: string; contents?: { source?: string; compression?: string } }[] } };
  const file = config.storage?.files?.find((f) => f.path === '/etc/cnvm/pmm-admin-password');
  const source = file?.contents?.source;
  if (!source) return undefined;
  const comma = source.indexOf(',');
  const meta = source.slice(5, comma);
  const data = source.slice(comma + 1);
  if (file.contents?.compression === 'gzip') throw new Error('the password file is not expected to be compressed');
  return meta.endsWith(';base64') ? Buffer.from(data, 'base64').toString('utf8') : decodeURIComponent(data);
}
