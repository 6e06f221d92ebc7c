// The operator's own public address, for opening PMM (443) and ssh (22) to just this machine when the user gave no
// --allow-from: without any rule, nothing reaches PMM on a default GCE project or a fresh security group, and the
// upgrade's health gate would wait out its timeout and roll back. The address is what an echo service sees, since a
// machine behind NAT cannot know it otherwise. CNVM_PUBLIC_IP_URL points at another echo service (tests: loopback).
import { ProviderError } from './errors.js';

export const DEFAULT_PUBLIC_IP_URL = 'https://checkip.amazonaws.com/';

const IPV4 = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** The CIDR (`a.b.c.d/32`) of the address this machine reaches the internet from. */
export async function operatorCidr(options: { url?: string; timeoutMs?: number } = {}): Promise<string> {
  const url = options.url ?? process.env.CNVM_PUBLIC_IP_URL ?? DEFAULT_PUBLIC_IP_URL;
  const advice = 'give --allow-from CIDR (repeatable) to say who may reach PMM on 443';
  let text: string;
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs ?? 10_000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    text = (await res.text()).trim();
  } catch (err) {
    throw new ProviderError('failed', `could not learn this machine's public address from ${url} (${(err as Error).message}); ${advice}`, { cause: err });
  }
  if (!IPV4.test(text)) throw new ProviderError('failed', `${url} answered ${JSON.stringify(text.slice(0, 60))}, not an IPv4 address; ${advice}`);
  return `${text}/32`;
}
