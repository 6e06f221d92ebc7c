// After the first boot is confirmed (PMM answered the health gate, so the admin password is set on the data
// volume), the VM's stored config no longer needs the password: it is replaced with the same config rendered
// without it. Ignition runs only on a VM's first boot, so the replacement never runs; it is what a later read of the
// libvirt fw_cfg file, the EC2 user data or the GCE metadata shows.
import type { Provider, Volume } from '../provider/types.js';
import { renderVmConfig } from './config.js';
import type { DesiredState, VmRecord } from './record.js';
import type { StateStore } from './store.js';

export type ScrubOutcome = 'replaced' | 'deferred' | 'unsupported';

export async function scrubStoredConfig(provider: Provider, volume: Pick<Volume, 'id' | 'deviceName'>, desired: DesiredState, vmName: string): Promise<ScrubOutcome> {
  if (!provider.replaceIgnition) return 'unsupported';
  const { ignition } = await renderVmConfig(provider, volume, desired, undefined);
  return provider.replaceIgnition(vmName, ignition);
}

/** What the user is told about a VM whose stored config still holds the password. */
export function scrubNote(provider: Provider, vmName: string, outcome: ScrubOutcome): string | undefined {
  if (outcome === 'replaced') return undefined;
  if (outcome === 'deferred') return `${vmName}'s stored config still holds the admin password: ${provider.name} replaces it only while the VM is stopped; cnvm does it at the next stop (the next upgrade)`;
  return `${vmName}'s stored config still holds the admin password: this cnvm's ${provider.name} adapter cannot replace a VM's stored config yet (it is readable only by root and the hypervisor)`;
}

/** The record with `vmName` no longer listed as holding the password in its stored config. */
export function withoutSecretIn(record: VmRecord, vmName: string): VmRecord {
  const rest = (record.password.inConfigOf ?? []).filter((v) => v !== vmName);
  const { inConfigOf: _dropped, ...password } = record.password;
  return { ...record, password: rest.length ? { ...password, inConfigOf: rest } : password };
}

/** Scrubs one VM's stored config when the record lists it, and records the outcome. */
export async function scrubIfListed(provider: Provider, store: StateStore, name: string, volume: Pick<Volume, 'id' | 'deviceName'>, desired: DesiredState, vmName: string): Promise<ScrubOutcome | undefined> {
  const record = store.readRecord(provider.name, name);
  if (!record?.password.inConfigOf?.includes(vmName)) return undefined;
  const outcome = await scrubStoredConfig(provider, volume, desired, vmName);
  if (outcome === 'replaced') store.writeRecord(withoutSecretIn(record, vmName));
  return outcome;
}
