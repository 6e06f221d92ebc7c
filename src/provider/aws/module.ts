// AWS EC2 (@aws-sdk/client-ec2, imported only when this provider runs); images are AMIs.
import { CnvmError } from '../../errors.js';
import { ProviderError } from '../errors.js';
import { list, str, type ProviderModule } from '../module.js';
import { awsDisk, type AwsDataDisk } from './disk.js';

const IPV4_CIDR = /^((25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(25[0-5]|2[0-4]\d|1?\d?\d)\/(3[0-2]|[12]?\d)$/;
const regionOf = (s: Record<string, unknown>): string | undefined => (typeof s.region === 'string' ? s.region : undefined) ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;

export const awsModule: ProviderModule<AwsDataDisk> = {
  name: 'aws',
  summary: 'AWS EC2',
  settings: [
    { key: 'region', flag: 'region', type: 'string', location: true, help: 'aws: region (default: AWS_REGION)' },
    { key: 'aws_profile', flag: 'aws-profile', type: 'string', transient: true, help: 'aws: named profile from ~/.aws/config' },
    { key: 'zone', flag: 'zone', type: 'string', location: true, help: 'aws: availability zone / gcp: zone, e.g. europe-west1-b' },
    { key: 'subnet', flag: 'subnet', type: 'string', location: true, help: 'aws subnet id / gcp subnetwork' },
    { key: 'security_group', flag: 'security-group', type: 'string', help: 'aws: security group id(s), comma-separated' },
    { key: 'machine_type', flag: 'machine-type', type: 'string', help: 'gcp machine type (default e2-standard-4) / aws instance type (default t3.large)' },
    { key: 'key_name', flag: 'key-name', type: 'string', help: 'aws: EC2 key pair name' },
    { key: 'allow_from', flag: 'allow-from', type: 'strings', help: 'gcp/aws: let this CIDR reach 443 (aws: and 22) through a rule/group cnvm creates once (repeatable)' },
    { key: 'address', flag: 'address', type: 'string', help: 'aws/gcp: stable (default: a reserved address kept across upgrades) or ephemeral' },
  ],
  disk: awsDisk,
  exportTargets: [
    { id: 'cloudformation', format: 'cloudformation', title: 'a CloudFormation template', fileName: (vm) => `${vm}.cfn.json`, load: async () => ({ render: (await import('./export-cloudformation.js')).cloudFormationTemplate }) },
    { id: 'terraform-aws', format: 'terraform', title: 'a Terraform file', fileName: (vm) => `${vm}.tf.json`, load: async () => ({ render: (await import('./export-terraform.js')).terraformAws }) },
  ],
  examples: {
    provision: ['cnvm provision --provider aws --region eu-west-1 --name pmm1 --data-size 100G --dry-run'],
    upgrade: ['cnvm upgrade --provider aws --name pmm1 --image ami-0123456789abcdef0 --dry-run'],
    status: ['cnvm status --provider aws --name pmm1 --json'],
    'config show': ['cnvm config show --provider aws --stage prod --json'],
    list: ['cnvm list --provider aws --region eu-west-1 --json'],
    ssh: ['cnvm ssh pmm1 --provider aws -- sudo podman ps'],
    console: ['cnvm console pmm1 --provider aws --json'],
    logs: ['cnvm logs pmm1 --provider aws --ignition'],
  },
  imageHelp: 'an AMI id (ami-…)',
  imagePlaceholder: (stream) => `<FCOS ${stream} AMI of the region>`,
  imageFromFlag(value) {
    if (!/^ami-[0-9a-f]{8,17}$/.test(value)) throw new CnvmError('usage', `--image ${value}: for aws, give ${this.imageHelp}`);
    return { id: value };
  },
  async resolveImage(stream, settings, log) {
    const { fetchStream, awsImage } = await import('../../image/stream.js');
    const region = regionOf(settings) ?? '';
    const image = awsImage(await fetchStream(stream), stream, region);
    log(`image: ${image.ami} (${image.release}, ${region})`);
    return { id: image.ami, version: image.release };
  },
  async create(s) {
    const region = regionOf(s);
    if (!region) throw new ProviderError('invalid', 'the aws provider needs a region (profile key `region`, --region, or AWS_REGION)');
    const { createAwsProvider } = await import('./adapter.js');
    // CNVM_EC2_ENDPOINT points the client at another EC2 endpoint (the tests' peers) with the usual credential chain.
    const endpoint = process.env.CNVM_EC2_ENDPOINT;
    const groups = list(s, 'security_group');
    const allow = list(s, 'allow_from');
    const badCidr = allow.find((c) => !IPV4_CIDR.test(c));
    if (badCidr !== undefined) throw new CnvmError('usage', `--allow-from ${badCidr}: give an IPv4 CIDR such as 198.51.100.0/24 (repeat the flag for more)`);
    const address = str(s, 'address') ?? 'stable';
    if (address !== 'stable' && address !== 'ephemeral') throw new CnvmError('usage', `--address ${address}: give stable (an Elastic IP kept across upgrades) or ephemeral`);
    return createAwsProvider({
      region,
      ...(str(s, 'aws_profile') ? { profile: str(s, 'aws_profile') as string } : {}),
      ...(str(s, 'zone') ? { availabilityZone: str(s, 'zone') as string } : {}),
      ...(str(s, 'subnet') ? { subnetId: str(s, 'subnet') as string } : {}),
      ...(groups.length ? { securityGroupIds: groups } : {}),
      ...(str(s, 'machine_type') ? { instanceType: str(s, 'machine_type') as string } : {}),
      ...(str(s, 'key_name') ? { keyName: str(s, 'key_name') as string } : {}),
      ...(allow.length ? { allowCidrs: allow } : {}),
      address,
      ...(endpoint ? { clientConfig: { endpoint }, waitDelaySec: 0.05 } : {}),
    });
  },
};
