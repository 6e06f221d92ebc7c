// The PMM URL a user opens and PMM clients point at: the stable address when the provider reserves one (it is the
// same whatever the VM's state), else the address the running VM reports — an IP (PMM on 443) or a forwarded
// `host:port` (libvirt user-mode networking).
import type { Provider, VmInfo } from '../provider/types.js';
import { endpointOf } from './health.js';
import type { RecordedAddress } from './record.js';

export function pmmUrl(vm: VmInfo | undefined, address: RecordedAddress | undefined): string | undefined {
  // No VM (destroyed with the data kept): the address is still reserved, but nothing answers there.
  if (!vm) return undefined;
  if (address) return `https://${hostPart(address.ip)}/`;
  const reported = vm?.state === 'running' ? vm.addresses[0] : undefined;
  if (!reported) return undefined;
  const { host, port } = endpointOf(reported);
  return `https://${hostPart(host)}${port === 443 ? '' : `:${port}`}/`;
}

const hostPart = (host: string): string => (host.includes(':') ? `[${host}]` : host);

/** Why there is no URL yet, in words, for output that must say something rather than nothing. */
export function noUrlReason(vm: VmInfo | undefined): string {
  if (!vm) return 'no URL: the VM does not exist (a provision on the kept data volume brings it back at the same address)';
  if (vm.state !== 'running') return `no address yet: ${vm.name} is ${vm.state}`;
  return `no address yet: ${vm.name} has not reported one (no network, or its DHCP lease is not visible yet)`;
}

/** The VM as the health gate should probe it: with a reserved address, that address first. */
export function withStableAddress(vm: VmInfo | undefined, address: RecordedAddress | undefined): VmInfo | undefined {
  if (!vm || !address || vm.state !== 'running') return vm;
  return { ...vm, addresses: [address.ip, ...vm.addresses.filter((a) => a !== address.ip)] };
}

/** The plan line every command shows: how this provider keeps the address. */
export const addressingNote = (provider: Provider): string => `address: ${provider.addressing.describe}`;
