// Picks the adapter for `--provider`. Each adapter lives in its own module and is imported only when chosen, so a
// cloud SDK is never loaded for another provider (or for rendering a config).
import { ProviderError } from './errors.js';
import type { Provider, ProviderName } from './types.js';

export interface ProviderSettings {
  /** libvirt connection URI. */
  connect?: string;
  /** libvirt: where volumes and VM files live. */
  storageDir?: string;
  /** libvirt network, or `none`. */
  network?: string;
  shutdownTimeoutSec?: number;
  /** GCE: project, zone, machine type, network and subnetwork. */
  project?: string;
  zone?: string;
  machineType?: string;
  subnet?: string;
  /** AWS: region, named profile, availability zone, security groups, instance type, key pair. */
  region?: string;
  profile?: string;
  availabilityZone?: string;
  securityGroups?: string[];
  instanceType?: string;
  keyName?: string;
  /** gcp/aws: CIDRs allowed to reach PMM (firewall rule / security group cnvm creates once). */
  allowFrom?: string[];
}

export const PROVIDERS: readonly ProviderName[] = ['libvirt', 'aws', 'gcp'];

export function isProviderName(name: string): name is ProviderName {
  return (PROVIDERS as readonly string[]).includes(name);
}

export async function createProvider(name: string, settings: ProviderSettings = {}): Promise<Provider> {
  switch (name) {
    case 'libvirt': {
      const { createLibvirtProvider } = await import('./libvirt.js');
      return createLibvirtProvider({
        ...(settings.connect ? { uri: settings.connect } : {}),
        ...(settings.storageDir ? { storageDir: settings.storageDir } : {}),
        ...(settings.network ? { network: settings.network === 'none' ? null : settings.network } : {}),
        ...(settings.shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec: settings.shutdownTimeoutSec } : {}),
      });
    }
    case 'gcp': {
      if (!settings.project || !settings.zone) throw new ProviderError('invalid', 'the gcp provider needs a project and a zone (profile keys `project`, `zone`, or --project/--zone)');
      const { createGcpProvider } = await import('./gcp.js');
      // CNVM_GCE_ENDPOINT points the client at another Compute API endpoint without credentials (the tests' fake).
      const endpoint = process.env.CNVM_GCE_ENDPOINT;
      let clientOptions: Record<string, unknown> | undefined;
      if (endpoint) {
        const url = new URL(endpoint);
        const { PassThroughClient } = await import('google-auth-library');
        clientOptions = { apiEndpoint: url.hostname, port: Number(url.port), protocol: url.protocol.replace(':', ''), authClient: new PassThroughClient() };
      }
      return createGcpProvider({
        project: settings.project,
        zone: settings.zone,
        ...(settings.machineType ? { machineType: settings.machineType } : {}),
        ...(settings.network && settings.network !== 'none' ? { network: settings.network } : {}),
        ...(settings.subnet ? { subnetwork: settings.subnet } : {}),
        ...(settings.allowFrom?.length ? { firewallSourceRanges: settings.allowFrom } : {}),
        ...(clientOptions ? { clientOptions, pollIntervalMs: 10 } : {}),
      });
    }
    case 'aws': {
      const region = settings.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
      if (!region) throw new ProviderError('invalid', 'the aws provider needs a region (profile key `region`, --region, or AWS_REGION)');
      const { createAwsProvider } = await import('./aws.js');
      // CNVM_EC2_ENDPOINT points the client at another EC2 endpoint (the tests' fake) with the usual credential chain.
      const endpoint = process.env.CNVM_EC2_ENDPOINT;
      return createAwsProvider({
        region,
        ...(settings.profile ? { profile: settings.profile } : {}),
        ...(settings.availabilityZone ? { availabilityZone: settings.availabilityZone } : settings.zone ? { availabilityZone: settings.zone } : {}),
        ...(settings.subnet ? { subnetId: settings.subnet } : {}),
        ...(settings.securityGroups?.length ? { securityGroupIds: settings.securityGroups } : {}),
        ...(settings.instanceType ? { instanceType: settings.instanceType } : settings.machineType ? { instanceType: settings.machineType } : {}),
        ...(settings.keyName ? { keyName: settings.keyName } : {}),
        ...(settings.allowFrom?.length ? { allowCidrs: settings.allowFrom } : {}),
        ...(endpoint ? { clientConfig: { endpoint }, waitDelaySec: 0.05 } : {}),
      });
    }
    default:
      throw new ProviderError('invalid', `unknown provider ${JSON.stringify(name)} (${PROVIDERS.join(', ')})`);
  }
}
