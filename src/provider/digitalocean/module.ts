// DigitalOcean (API v2 over fetch; see api.ts for why no SDK); images are custom image ids or slugs.
import { CnvmError } from '../../errors.js';
import { ProviderError } from '../errors.js';
import { list, str, type ProviderModule } from '../module.js';
import { doDisk, type DoDataDisk } from './disk.js';

const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/;
const REGION = /^[a-z]{3}\d$/;
const TAG = /^[a-zA-Z0-9_:-]{1,255}$/;

/** Shorter waits against the tests' fake (CNVM_DO_RETRY_BASE_MS); never set in production. */
function fastForTests(): Record<string, unknown> {
  const base = Number(process.env.CNVM_DO_RETRY_BASE_MS);
  return Number.isFinite(base) && base > 0 ? { retry: { baseMs: base, capMs: base * 8, budgetMs: Math.max(base * 400, 5000) }, pollIntervalMs: base } : {};
}

export const digitaloceanModule: ProviderModule<DoDataDisk> = {
  name: 'digitalocean',
  summary: 'DigitalOcean droplets',
  settings: [
    { key: 'region', flag: 'region', type: 'string', location: true, help: 'aws: region (default: AWS_REGION) / digitalocean: region slug, e.g. fra1' },
    { key: 'size', flag: 'size', type: 'string', help: 'digitalocean: droplet size slug (default s-2vcpu-4gb)' },
    { key: 'vpc', flag: 'vpc', type: 'string', location: true, help: 'digitalocean: VPC uuid (default: the region\'s default VPC)' },
    { key: 'tags', flag: 'tag', type: 'strings', help: 'digitalocean: one more tag for the droplets (repeatable)' },
    { key: 'allow_from', flag: 'allow-from', type: 'strings', help: 'gcp/aws/digitalocean: let this CIDR reach 443 (aws/digitalocean: and 22) through a rule/group/firewall cnvm creates once (repeatable)' },
    { key: 'address', flag: 'address', type: 'string', help: 'aws/gcp/digitalocean: stable (default: a reserved address kept across upgrades) or ephemeral' },
  ],
  disk: doDisk,
  exportTargets: [{ id: 'terraform-digitalocean', format: 'terraform', title: 'a Terraform file', fileName: (vm) => `${vm}.tf.json`, load: async () => ({ render: (await import('./export-terraform.js')).terraformDigitalOcean }) }],
  examples: {
    provision: ['cnvm provision --provider digitalocean --region fra1 --name pmm1 --json'],
    export: ['cnvm export terraform --provider digitalocean --region fra1 --name pmm1 --image 123456789'],
    destroy: ['cnvm destroy --provider digitalocean --region fra1 --name pmm1 --delete-data --yes --dry-run'],
  },
  imageHelp: 'a custom image id (digits) or an image slug',
  imagePlaceholder: (stream) => `<FCOS ${stream} DigitalOcean custom image>`,
  imageFromFlag(value) {
    if (!/^(\d{1,12}|[a-z0-9][a-z0-9.-]{0,62})$/.test(value)) throw new CnvmError('usage', `--image ${value}: for digitalocean, give ${this.imageHelp}`);
    return { id: value };
  },
  async resolveImage(stream, settings, log) {
    const { resolveDoImage } = await import('./image.js');
    return resolveDoImage(stream, settings, log);
  },
  async create(s) {
    const region = str(s, 'region') ?? process.env.DIGITALOCEAN_REGION;
    if (!region) throw new ProviderError('invalid', 'the digitalocean provider needs a region (profile key `region`, --region, or DIGITALOCEAN_REGION)');
    if (!REGION.test(region)) throw new CnvmError('usage', `--region ${region}: give a DigitalOcean region slug such as fra1 or nyc3`);
    const allow = list(s, 'allow_from');
    const badCidr = allow.find((c) => !IPV4_CIDR.test(c));
    if (badCidr !== undefined) throw new CnvmError('usage', `--allow-from ${badCidr}: give an IPv4 CIDR such as 198.51.100.0/24 (repeat the flag for more)`);
    const tags = list(s, 'tags');
    const badTag = tags.find((t) => !TAG.test(t) || t.startsWith('cnvm'));
    if (badTag !== undefined) throw new CnvmError('usage', `--tag ${badTag}: give letters, digits, '-', '_' or ':' (at most 255), not starting with cnvm`);
    const address = str(s, 'address') ?? 'stable';
    if (address !== 'stable' && address !== 'ephemeral') throw new CnvmError('usage', `--address ${address}: give stable (a reserved IP kept across upgrades) or ephemeral`);
    const { resolveToken, resolveEndpoint } = await import('./settings.js');
    const endpoint = resolveEndpoint();
    const token = resolveToken();
    const { createDigitalOceanProvider } = await import('./adapter.js');
    return createDigitalOceanProvider({
      endpoint,
      token,
      region,
      address,
      ...(str(s, 'size') ? { size: str(s, 'size') as string } : {}),
      ...(str(s, 'vpc') ? { vpcUuid: str(s, 'vpc') as string } : {}),
      ...(tags.length ? { extraTags: tags } : {}),
      ...(allow.length ? { allowFrom: allow } : {}),
      ...fastForTests(),
    });
  },
};
