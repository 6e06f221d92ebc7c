// Google Compute Engine (@google-cloud/compute, imported only when this provider runs); images are image links.
import { CnvmError } from '../../errors.js';
import { ProviderError } from '../errors.js';
import { list, str, type ProviderModule } from '../module.js';
import { gcpDisk, type GcpDataDisk } from './disk.js';
import { importSdk } from '../sdk.js';

function retryForTests(): { retry?: { baseMs: number; capMs: number; budgetMs: number } } {
  const base = Number(process.env.CNVM_GCE_RETRY_BASE_MS);
  return Number.isFinite(base) && base > 0 ? { retry: { baseMs: base, capMs: base * 8, budgetMs: base * 40 } } : {};
}

export const gcpModule: ProviderModule<GcpDataDisk> = {
  name: 'gcp',
  summary: 'Google Compute Engine',
  settings: [
    { key: 'project', flag: 'project', type: 'string', location: true, help: 'gcp: project id (default: GOOGLE_CLOUD_PROJECT, or the project of the application default credentials)' },
    { key: 'zone', flag: 'zone', type: 'string', location: true, help: 'aws: availability zone / gcp: zone, e.g. europe-west1-b' },
    { key: 'machine_type', flag: 'machine-type', type: 'string', help: 'gcp machine type (default e2-standard-4) / aws instance type (default t3.large)' },
    { key: 'network', flag: 'network', type: 'string', help: "gcp: VPC network (default 'default')" },
    { key: 'subnet', flag: 'subnet', type: 'string', location: true, help: 'aws subnet id / gcp subnetwork' },
    { key: 'address', flag: 'address', type: 'string', help: 'aws/gcp: stable (default: a reserved address kept across upgrades) or ephemeral' },
    { key: 'allow_from', flag: 'allow-from', type: 'strings', help: 'gcp/aws: let this CIDR reach 443 (aws: and 22) through a rule/group cnvm creates once (repeatable)' },
  ],
  disk: gcpDisk,
  exportTargets: [{ id: 'terraform-gcp', format: 'terraform', title: 'a Terraform file', fileName: (vm) => `${vm}.tf.json`, load: async () => ({ render: (await import('./export-terraform.js')).terraformGcp }) }],
  examples: {
    provision: ['cnvm provision --provider gcp --project my-proj --zone europe-west1-b --name pmm1 --json'],
    destroy: ['cnvm destroy --provider gcp --name pmm1 --delete-data --yes --dry-run'],
    ssh: ['cnvm ssh pmm1 --provider gcp --dry-run'],
  },
  imageHelp: 'an image link (projects/P/global/images/NAME or .../images/family/F)',
  imagePlaceholder: (stream) => `<FCOS ${stream} GCE image>`,
  imageFromFlag(value) {
    if (!/^(https:\/\/www\.googleapis\.com\/compute\/v1\/)?projects\/[a-z][-a-z0-9.:]*\/global\/images\/(family\/)?[a-z][-a-z0-9]*$/.test(value)) {
      throw new CnvmError('usage', `--image ${value}: for gcp, give ${this.imageHelp}`);
    }
    return { id: value };
  },
  async resolveImage(stream, _settings, log) {
    const { fetchStream, gcpImage } = await import('../../image/stream.js');
    const image = gcpImage(await fetchStream(stream), stream);
    log(`image: ${image.project}/${image.name}`);
    return { id: `projects/${image.project}/global/images/${image.name}`, version: image.release };
  },
  async create(s) {
    const address = str(s, 'address') ?? 'stable';
    if (address !== 'stable' && address !== 'ephemeral') throw new CnvmError('usage', `--address ${address}: give stable or ephemeral`);
    const zone = str(s, 'zone');
    const { projectFromEnvironment } = await import('./credentials.js');
    const project = str(s, 'project') ?? projectFromEnvironment();
    if (!project || !zone) {
      throw new ProviderError('invalid', 'the gcp provider needs a project and a zone (profile keys `project`, `zone`, or --project/--zone; the project may also come from GOOGLE_CLOUD_PROJECT or the application default credentials)');
    }
    const { createGcpProvider } = await import('./adapter.js');
    // CNVM_GCE_ENDPOINT points the client at another Compute API endpoint without credentials (the tests' fake).
    const endpoint = process.env.CNVM_GCE_ENDPOINT;
    let clientOptions: Record<string, unknown> | undefined;
    if (endpoint) {
      const url = new URL(endpoint);
      const { PassThroughClient } = await importSdk('gcp', 'google-auth-library', () => import('google-auth-library'));
      clientOptions = { apiEndpoint: url.hostname, port: Number(url.port), protocol: url.protocol.replace(':', ''), authClient: new PassThroughClient() };
    }
    const network = str(s, 'network');
    const allow = list(s, 'allow_from');
    return createGcpProvider({
      project,
      zone,
      ...(str(s, 'machine_type') ? { machineType: str(s, 'machine_type') as string } : {}),
      address: address === 'stable' ? 'static' : 'ephemeral',
      ...(network && network !== 'none' ? { network } : {}),
      ...(str(s, 'subnet') ? { subnetwork: str(s, 'subnet') as string } : {}),
      ...(allow.length ? { firewallSourceRanges: allow } : {}),
      // CNVM_GCE_RETRY_BASE_MS shortens the backoff against the fake (its fault injection); never set in production.
      ...(clientOptions ? { clientOptions, pollIntervalMs: 10, ...retryForTests() } : {}),
    });
  },
};
