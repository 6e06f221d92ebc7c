// Shorthands for lifecycle tests: a state store in a temporary directory and provision/upgrade requests built the
// way the CLI builds them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
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

type GateOptions = Pick<ProvisionInput, 'skipHealthCheck' | 'healthCheck' | 'healthTimeoutSec' | 'healthIntervalMs'>;

/** No PMM runs on the test providers: unless told otherwise, the gate's check is a PMM that is up at once. */
const pmmUp: NonNullable<ProvisionInput['healthCheck']> = async () => true;

export function provisionInput(name: string, image: ImageRef, options: { password?: PasswordChoice; defaults?: Partial<DesiredState>; overrides?: DesiredOverrides } & GateOptions = {}): ProvisionInput {
  const { password, defaults, overrides, ...gate } = options;
  return { name, defaults: desired(image, defaults), overrides: overrides ?? {}, ...(password ? { password } : {}), healthCheck: pmmUp, healthIntervalMs: 10, ...gate };
}

export function provisionVm(provider: Provider, store: StateStore, name: string, image: ImageRef, options: Parameters<typeof provisionInput>[2] = {}): Promise<ProvisionResult> {
  return provision(provider, store, provisionInput(name, image, options));
}

/** The contents of a data: URL, gunzipped when the entry says gzip. */
function dataUrl(source: string, compression?: string): string {
  const comma = source.indexOf(',');
  const meta = source.slice(5, comma);
  const data = source.slice(comma + 1);
  const bytes = meta.endsWith(';base64') ? Buffer.from(data, 'base64') : Buffer.from(decodeURIComponent(data), 'utf8');
  return (compression === 'gzip' ? gunzipSync(bytes) : bytes).toString('utf8');
}

/** The PMM admin password in a rendered Ignition config (the root-only file), if there is one. */
export function passwordInConfig(ignition: string): string | undefined {
  return fileInConfig(ignition, '/etc/cnvm/pmm-admin-password');
}

/** The contents of the file at `path` in a rendered Ignition config, if it writes one. */
export function fileInConfig(ignition: string, path: string): string | undefined {
  const config = JSON.parse(ignition) as {
    ignition?: { config?: { replace?: { source?: string; compression?: string } } };
    storage?: { files?: { path: string; contents?: { source?: string; compression?: string } }[] };
  };
  // The cloud wrapper for configs over the metadata limit carries the real one, compressed.
  const replaced = config.ignition?.config?.replace;
  if (replaced?.source) return fileInConfig(dataUrl(replaced.source, replaced.compression), path);
  const file = config.storage?.files?.find((f) => f.path === path);
  return file?.contents?.source ? dataUrl(file.contents.source, file.contents.compression) : undefined;
}
