// `cnvm export cloudformation`: one PMM server as an AWS CloudFormation template (JSON). The request values
// (instance type, volume type and encryption, device name, ports) come from the EC2 adapter's own request builders,
// so the template and `cnvm provision --provider aws --dry-run` describe the same VM.
//
// Design (docs/export.md explains each):
// - The data volume is its own resource with DeletionPolicy and UpdateReplacePolicy Retain; the guest finds it by
//   its NVMe serial (the volume id without the dash), which the user data builds with Fn::Split/Fn::Join.
// - The admin password never appears in the template: the user data carries a dynamic reference to a Secrets
//   Manager secret (one the stack generates, retained like the volume, or the user's own by ARN).
// - The AMI is a parameter; empty means the stream's AMI for the stack's region (a mapping). A new AMI replaces
//   the instance; `AttachDataVolume=false` first detaches the volume, because CloudFormation creates a replacement
//   before it deletes the old one and EC2 attaches a volume to one instance at a time.
// - The Elastic IP is the stable address: it is updated in place to the new instance. With `--address ephemeral`
//   there is none, and the URL is the instance's own public IP (it changes when the instance is replaced).
import { awsRequests, EC2_USER_DATA_LIMIT } from './adapter.js';
import { networkRequests, PMM_PORTS } from './network.js';
import { CnvmError } from '../../errors.js';
import { fitUserData, type IgnitionPiece } from '../../export-kit/pieces.js';
import { describeDesired, ownTags, DEVICE_NAME, placementList, placementString, volumeNameOf, type ExportSubject } from '../../export-kit/subject.js';

type Json = Record<string, unknown>;
const ref = (name: string): Json => ({ Ref: name });

/** The secret's value must survive a `data:,` URL unencoded: a generated one is letters and digits. */
const GENERATED_PASSWORD_LENGTH = 24;
/** A user's secret (named by ARN) is substituted at deploy time: at most this long, and it counts against 16 KB. */
const MAX_USER_PASSWORD = 128;

function userDataPieces(pieces: readonly IgnitionPiece[]): unknown[] {
  return pieces.map((p) => {
    if (typeof p === 'string') return p;
    if (p.hole === 'volumeSerial') return { 'Fn::Join': ['', { 'Fn::Split': ['-', ref('DataVolume')] }] };
    return { 'Fn::Join': ['', ['{{resolve:secretsmanager:', { 'Fn::If': ['CreateAdminSecret', ref('AdminPassword'), ref('AdminPasswordSecretArn')] }, ':SecretString}}']] };
  });
}

export function cloudFormationTemplate(s: ExportSubject): Json {
  const d = s.desired;
  const instanceType = placementString(d, 'machine_type');
  const subnet = placementString(d, 'subnet');
  const zone = placementString(d, 'zone');
  const keyName = placementString(d, 'key_name');
  const cidrs = placementList(d, 'allow_from');
  const ephemeral = placementString(d, 'address') === 'ephemeral';
  // The adapter's request builders: the same instance type default, volume type, encryption and device.
  const req = awsRequests({ region: '<region>', ...(instanceType ? { instanceType } : {}), ...(cidrs.length ? { allowCidrs: cidrs } : {}) });
  const run = req.runInstances({ name: s.name, image: d.image, ignition: '' }, '');
  const volume = req.createVolume({ name: volumeNameOf(s), sizeGiB: d.dataSizeGiB, deviceName: DEVICE_NAME, vmName: s.name });
  const attach = req.attachVolume('<instance>', '<volume>');
  // The ports the adapter's own security group opens.
  const ingress = networkRequests.ingress('<group>', PMM_PORTS.map((port) => ({ port, cidr: '0.0.0.0/0' }))).IpPermissions;

  const userData = fitUserData(s.ignition, EC2_USER_DATA_LIMIT, MAX_USER_PASSWORD, 'EC2 user data');
  if (!s.images && !s.imagePinned) throw new CnvmError('usage', 'no AMI: give --image ami-… or let cnvm read the stream metadata (--stream, --stream-file)');
  const amis = s.images?.amis ?? {};
  const tags = (extra: Record<string, string>): { Key: string; Value: string }[] => Object.entries({ 'cnvm:export': s.name, ...extra }).map(([Key, Value]) => ({ Key, Value }));
  const volumeTags = ownTags(Object.fromEntries(((volume.TagSpecifications[0]?.Tags ?? []) as { Key: string; Value: string }[]).map((t) => [t.Key, t.Value])));

  const parameters: Json = {
    ImageId: {
      Type: 'String',
      Default: s.imagePinned ? d.image.id : '',
      AllowedPattern: '^(ami-[0-9a-f]{8,17})?$',
      Description: `A Fedora CoreOS AMI; empty: the ${s.images?.stream ?? 'stream'} stream's AMI for the stack's region (mapping FcosAmi${s.images?.release ? `, FCOS ${s.images.release}` : ''}). A new value replaces the instance and keeps the data volume (see AttachDataVolume).`,
    },
    InstanceType: { Type: 'String', Default: run.InstanceType, Description: 'EC2 instance type (PMM wants 2 vCPUs and 8 GiB or more)' },
    VpcId: { Type: 'AWS::EC2::VPC::Id', Description: 'The VPC of SubnetId (for the security group)' },
    SubnetId: { Type: 'AWS::EC2::Subnet::Id', ...(subnet ? { Default: subnet } : {}), Description: 'A subnet in AvailabilityZone with a route to the internet' },
    AvailabilityZone: { Type: 'AWS::EC2::AvailabilityZone::Name', ...(zone ? { Default: zone } : {}), Description: "SubnetId's zone: the data volume lives there and every instance is placed there" },
    AllowedCidr: {
      Type: 'String',
      ...(cidrs[0] ? { Default: cidrs[0] } : {}),
      AllowedPattern: '^\\d{1,3}(\\.\\d{1,3}){3}/\\d{1,2}$',
      Description: 'Who may reach PMM (443) and ssh (22), e.g. 203.0.113.7/32',
    },
    DataSizeGiB: { Type: 'Number', Default: d.dataSizeGiB, MinValue: 1, MaxValue: 16384, Description: 'Size of the PMM data volume; it can grow, never shrink' },
    KeyName: { Type: 'String', Default: keyName ?? '', Description: 'An EC2 key pair name (optional; the ssh keys are in the Ignition config)' },
    AttachDataVolume: {
      Type: 'String',
      Default: 'true',
      AllowedValues: ['true', 'false'],
      Description: 'false detaches the data volume (first step of an AMI replacement); the volume itself is always kept',
    },
    ...(s.password === 'secret'
      ? {
          AdminPasswordSecretArn: {
            Type: 'String',
            Default: '',
            Description: `PMM admin password: the ARN of a Secrets Manager secret whose SecretString is the password (letters, digits, "-._~", at most ${MAX_USER_PASSWORD}); empty: the stack generates one (output AdminPasswordSecret)`,
          },
        }
      : {}),
  };

  const conditions: Json = {
    UseStreamImage: { 'Fn::Equals': [ref('ImageId'), ''] },
    HasKeyName: { 'Fn::Not': [{ 'Fn::Equals': [ref('KeyName'), ''] }] },
    AttachData: { 'Fn::Equals': [ref('AttachDataVolume'), 'true'] },
    ...(s.password === 'secret' ? { CreateAdminSecret: { 'Fn::Equals': [ref('AdminPasswordSecretArn'), ''] } } : {}),
  };

  const resources: Json = {
    SecurityGroup: {
      Type: 'AWS::EC2::SecurityGroup',
      Properties: {
        GroupDescription: `PMM over HTTPS and ssh for ${s.name} (exported by cnvm)`,
        VpcId: ref('VpcId'),
        SecurityGroupIngress: ingress.flatMap((perm) =>
          [ref('AllowedCidr'), ...cidrs.slice(1)].map((cidr) => ({ IpProtocol: perm.IpProtocol, FromPort: perm.FromPort, ToPort: perm.ToPort, CidrIp: cidr })),
        ),
        Tags: tags({ Name: `${s.name}-pmm` }),
      },
    },
    DataVolume: {
      Type: 'AWS::EC2::Volume',
      // The PMM data: kept when the stack is deleted and when an update would replace the volume.
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        AvailabilityZone: ref('AvailabilityZone'),
        Size: ref('DataSizeGiB'),
        VolumeType: volume.VolumeType,
        Encrypted: volume.Encrypted,
        Tags: tags(volumeTags),
      },
    },
    ...(s.password === 'secret'
      ? {
          AdminPassword: {
            Type: 'AWS::SecretsManager::Secret',
            Condition: 'CreateAdminSecret',
            // The password of the PMM on the kept volume: kept with it.
            DeletionPolicy: 'Retain',
            UpdateReplacePolicy: 'Retain',
            Properties: {
              Description: `PMM admin password of ${s.name} (set at each instance's first boot)`,
              GenerateSecretString: { PasswordLength: GENERATED_PASSWORD_LENGTH, ExcludePunctuation: true },
              Tags: tags({}),
            },
          },
        }
      : {}),
    Instance: {
      Type: 'AWS::EC2::Instance',
      Properties: {
        ImageId: { 'Fn::If': ['UseStreamImage', { 'Fn::FindInMap': ['FcosAmi', ref('AWS::Region'), 'Ami'] }, ref('ImageId')] },
        InstanceType: ref('InstanceType'),
        SubnetId: ref('SubnetId'),
        AvailabilityZone: ref('AvailabilityZone'),
        // The group the template creates, and any the profile names (--security-group), as provision passes them.
        SecurityGroupIds: [ref('SecurityGroup'), ...placementList(d, 'security_group')],
        KeyName: { 'Fn::If': ['HasKeyName', ref('KeyName'), ref('AWS::NoValue')] },
        UserData: { 'Fn::Base64': { 'Fn::Join': ['', userDataPieces(userData)] } },
        // IMDSv2 only, hop limit 1: what provision's RunInstances asks (requests.ts).
        MetadataOptions: { ...run.MetadataOptions },
        Tags: tags({ Name: s.name }),
      },
    },
    DataAttachment: {
      Type: 'AWS::EC2::VolumeAttachment',
      Condition: 'AttachData',
      Properties: { Device: attach.Device, InstanceId: ref('Instance'), VolumeId: ref('DataVolume') },
    },
    ...(ephemeral
      ? {}
      : {
          ElasticIp: {
            Type: 'AWS::EC2::EIP',
            // The stable address: an AMI change updates InstanceId in place, so the IP moves to the new instance.
            Properties: { Domain: 'vpc', InstanceId: ref('Instance'), Tags: tags({ Name: `${s.name}-address` }) },
          },
        }),
  };
  const ip = ephemeral ? { 'Fn::GetAtt': ['Instance', 'PublicIp'] } : ref('ElasticIp');

  const outputs: Json = {
    PmmUrl: { Description: 'PMM web UI and API', Value: { 'Fn::Join': ['', ['https://', ip, '/']] } },
    PublicIp: { Description: ephemeral ? "The instance's own public IP (--address ephemeral: it changes when the instance is replaced)" : 'The Elastic IP (stable across instance replacements)', Value: ip },
    InstanceId: { Value: ref('Instance') },
    DataVolumeId: { Description: 'The retained PMM data volume', Value: ref('DataVolume') },
    ...(s.password === 'secret'
      ? { AdminPasswordSecret: { Description: 'Secrets Manager secret holding the PMM admin password', Value: { 'Fn::If': ['CreateAdminSecret', ref('AdminPassword'), ref('AdminPasswordSecretArn')] } } }
      : {}),
  };

  return {
    AWSTemplateFormatVersion: '2010-09-09',
    Description: `PMM server ${s.name} on Fedora CoreOS with a retained data volume (exported by cnvm)`,
    Metadata: {
      cnvm: describeDesired(s),
      'AWS::CloudFormation::Interface': {
        ParameterGroups: [
          { Label: { default: 'Placement' }, Parameters: ['VpcId', 'SubnetId', 'AvailabilityZone', 'AllowedCidr'] },
          { Label: { default: 'Server' }, Parameters: ['ImageId', 'InstanceType', 'DataSizeGiB', 'KeyName', 'AttachDataVolume', ...(s.password === 'secret' ? ['AdminPasswordSecretArn'] : [])] },
        ],
      },
    },
    Parameters: parameters,
    Mappings: { FcosAmi: Object.keys(amis).length ? Object.fromEntries(Object.entries(amis).map(([region, ami]) => [region, { Ami: ami }])) : { [placementString(d, 'region') ?? 'us-east-1']: { Ami: d.image.id } } },
    Conditions: conditions,
    Resources: resources,
    Outputs: outputs,
  };
}
