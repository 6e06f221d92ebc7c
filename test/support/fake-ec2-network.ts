// The fake EC2's network side, by the EC2 API reference: the region's zones (DescribeAvailabilityZones), the
// default VPC with one default subnet per zone (as every account has, and as moto predefines), the public AMIs it
// knows (DescribeImages), security groups and their ingress rules, and Elastic IPs (AllocateAddress,
// AssociateAddress, DisassociateAddress, ReleaseAddress, DescribeAddresses).
import type { Ec2State, FakeAddress, FakeGroup, FakeInstance } from './fake-ec2.js';
import { esc, fault, filters, items, matches, numbered, page, tagSet, tagSpecs, type Fault } from './fake-ec2-query.js';

export type Handler = (p: URLSearchParams) => string | Fault;

const groupXml = (g: FakeGroup): string =>
  `<ownerId>123456789012</ownerId><groupId>${g.id}</groupId><groupName>${esc(g.name)}</groupName><groupDescription>${esc(g.description)}</groupDescription><vpcId>${g.vpcId}</vpcId>` +
  `<ipPermissions>${items(
    [...new Set(g.ingress.map((r) => `${r.protocol}/${r.port}`))].map((key) => {
      const [protocol, port] = key.split('/');
      const cidrs = g.ingress.filter((r) => r.protocol === protocol && String(r.port) === port).map((r) => `<cidrIp>${r.cidr}</cidrIp>`);
      return `<ipProtocol>${protocol}</ipProtocol><fromPort>${port}</fromPort><toPort>${port}</toPort><groups/><ipRanges>${items(cidrs)}</ipRanges><ipv6Ranges/><prefixListIds/>`;
    }),
  )}</ipPermissions><ipPermissionsEgress/>${tagSet(g.tags)}`;

const addressXml = (a: FakeAddress, s: Ec2State): string => {
  const inst = a.instanceId ? s.instances.get(a.instanceId) : undefined;
  return (
    `<publicIp>${a.publicIp}</publicIp><allocationId>${a.id}</allocationId><domain>vpc</domain>` +
    (inst ? `<instanceId>${inst.id}</instanceId><associationId>${a.associationId}</associationId><privateIpAddress>${inst.privateIp}</privateIpAddress>` : '') +
    tagSet(a.tags)
  );
};

/** Permissions in a request: `IpPermissions.N.{IpProtocol,FromPort,ToPort,IpRanges.M.CidrIp}`. */
function permissions(p: URLSearchParams): FakeGroup['ingress'] | Fault {
  const out: FakeGroup['ingress'] = [];
  for (let i = 1; p.has(`IpPermissions.${i}.IpProtocol`); i++) {
    const protocol = p.get(`IpPermissions.${i}.IpProtocol`) as string;
    const from = Number(p.get(`IpPermissions.${i}.FromPort`));
    const to = Number(p.get(`IpPermissions.${i}.ToPort`));
    if (from !== to) return fault('InvalidParameterValue', 'the fake models single-port rules only');
    for (let j = 1; p.has(`IpPermissions.${i}.IpRanges.${j}.CidrIp`); j++) {
      const cidr = p.get(`IpPermissions.${i}.IpRanges.${j}.CidrIp`) as string;
      if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) return fault('InvalidParameterValue', `CIDR block ${cidr} is malformed`);
      out.push({ protocol, port: from, cidr });
    }
  }
  return out;
}

export function networkActions(s: Ec2State): Record<string, Handler> {
  const sameRule = (a: FakeGroup['ingress'][number], b: FakeGroup['ingress'][number]): boolean => a.protocol === b.protocol && a.port === b.port && a.cidr === b.cidr;
  const group = (id: string | null): FakeGroup | Fault => s.groups.get(id ?? '') ?? fault('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
  const address = (id: string | null): FakeAddress | Fault => s.addresses.get(id ?? '') ?? fault('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`);
  const isFault = (x: unknown): x is Fault => typeof x === 'object' && x !== null && 'code' in x && 'status' in x;

  return {
    DescribeAvailabilityZones: (p) => {
      const names = numbered(p, 'ZoneName');
      for (const n of names) if (!s.zones.includes(n)) return fault('InvalidParameterValue', `The zone '${n}' does not exist.`);
      const fs = filters(p);
      const zones = s.zones.filter((z) => (names.length === 0 || names.includes(z)) && matches(fs, [], (n) => (n === 'zone-name' ? z : n === 'state' ? 'available' : n === 'region-name' ? s.region : undefined)));
      return `<availabilityZoneInfo>${items(zones.map((z, i) => `<zoneName>${z}</zoneName><zoneState>available</zoneState><regionName>${s.region}</regionName><zoneId>euw1-az${i + 1}</zoneId><zoneType>availability-zone</zoneType><messageSet/>`))}</availabilityZoneInfo>`;
    },
    DescribeImages: (p) => {
      const ids = numbered(p, 'ImageId');
      for (const id of ids) {
        if (!/^ami-[0-9a-f]{8,17}$/.test(id)) return fault('InvalidAMIID.Malformed', `Invalid id: "${id}"`);
        if (!s.images.has(id)) return fault('InvalidAMIID.NotFound', `The image id '[${id}]' does not exist`);
      }
      const fs = filters(p);
      const pg = page([...s.images.values()], (i) => (ids.length === 0 || ids.includes(i.id)) && matches(fs, [], (n) => (n === 'name' ? i.name : n === 'image-id' ? i.id : n === 'state' ? 'available' : undefined)), p, ids, s.maxPage);
      if (isFault(pg)) return pg;
      return `<imagesSet>${items(pg.items.map((i) => `<imageId>${i.id}</imageId><name>${esc(i.name)}</name><imageState>available</imageState><architecture>x86_64</architecture><rootDeviceType>ebs</rootDeviceType><rootDeviceName>/dev/xvda</rootDeviceName><imageOwnerId>125523088429</imageOwnerId><isPublic>true</isPublic>`))}</imagesSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`;
    },
    DescribeVpcs: (p) => {
      const ids = numbered(p, 'VpcId');
      for (const id of ids) if (id !== s.vpcId) return fault('InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
      const ok = matches(filters(p), [], (n) => (n === 'isDefault' || n === 'is-default' ? 'true' : n === 'vpc-id' ? s.vpcId : undefined));
      return `<vpcSet>${ok ? items([`<vpcId>${s.vpcId}</vpcId><isDefault>true</isDefault><cidrBlock>172.31.0.0/16</cidrBlock><state>available</state>`]) : ''}</vpcSet>`;
    },
    DescribeSubnets: (p) => {
      const ids = numbered(p, 'SubnetId');
      for (const id of ids) if (!s.subnets.has(id)) return fault('InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
      const fs = filters(p);
      const pg = page([...s.subnets.values()], (n) => (ids.length === 0 || ids.includes(n.id)) && matches(fs, [], (f) => (f === 'vpc-id' ? s.vpcId : f === 'availability-zone' ? n.az : f === 'default-for-az' ? 'true' : f === 'subnet-id' ? n.id : undefined)), p, ids, s.maxPage);
      if (isFault(pg)) return pg;
      return `<subnetSet>${items(pg.items.map((n) => `<subnetId>${n.id}</subnetId><vpcId>${s.vpcId}</vpcId><availabilityZone>${n.az}</availabilityZone><cidrBlock>${n.cidr}</cidrBlock><defaultForAz>true</defaultForAz><state>available</state>`))}</subnetSet>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`;
    },
    DescribeSecurityGroups: (p) => {
      const ids = numbered(p, 'GroupId');
      for (const id of ids) if (!s.groups.has(id)) return fault('InvalidGroup.NotFound', `The security group '${id}' does not exist`);
      const fs = filters(p);
      const pg = page([...s.groups.values()], (g) => (ids.length === 0 || ids.includes(g.id)) && matches(fs, g.tags, (n) => (n === 'group-name' ? g.name : n === 'vpc-id' ? g.vpcId : n === 'group-id' ? g.id : undefined)), p, ids, s.maxPage);
      if (isFault(pg)) return pg;
      return `<securityGroupInfo>${items(pg.items.map(groupXml))}</securityGroupInfo>${pg.next ? `<nextToken>${pg.next}</nextToken>` : ''}`;
    },
    CreateSecurityGroup: (p) => {
      const name = p.get('GroupName') ?? '';
      const vpcId = p.get('VpcId') ?? s.vpcId;
      if (!name || !p.get('GroupDescription')) return fault('MissingParameter', 'The request must contain the parameters GroupName and GroupDescription');
      if (vpcId !== s.vpcId) return fault('InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
      if ([...s.groups.values()].some((g) => g.name === name && g.vpcId === vpcId)) return fault('InvalidGroup.Duplicate', `The security group '${name}' already exists for VPC '${vpcId}'`);
      const g: FakeGroup = { id: `sg-${s.hex(4)}`, name, description: p.get('GroupDescription') ?? '', vpcId, ingress: [], tags: tagSpecs(p, 'security-group') };
      s.groups.set(g.id, g);
      return `<return>true</return><groupId>${g.id}</groupId>${tagSet(g.tags)}`;
    },
    DeleteSecurityGroup: (p) => {
      const g = group(p.get('GroupId'));
      if (isFault(g)) return g;
      if ([...s.instances.values()].some((i) => i.state !== 'terminated' && i.groupIds.includes(g.id))) return fault('DependencyViolation', `resource ${g.id} has a dependent object`);
      s.groups.delete(g.id);
      return '<return>true</return>';
    },
    AuthorizeSecurityGroupIngress: (p) => {
      const g = group(p.get('GroupId'));
      if (isFault(g)) return g;
      const rules = permissions(p);
      if (isFault(rules)) return rules;
      const dup = rules.find((r) => g.ingress.some((x) => sameRule(x, r)));
      if (dup) return fault('InvalidPermission.Duplicate', `the specified rule "peer: ${dup.cidr}, ${dup.protocol.toUpperCase()}, from port: ${dup.port}, to port: ${dup.port}, ALLOW" already exists`);
      g.ingress.push(...rules);
      return '<return>true</return>';
    },
    RevokeSecurityGroupIngress: (p) => {
      const g = group(p.get('GroupId'));
      if (isFault(g)) return g;
      const rules = permissions(p);
      if (isFault(rules)) return rules;
      const missing = rules.find((r) => !g.ingress.some((x) => sameRule(x, r)));
      if (missing) return fault('InvalidPermission.NotFound', `The specified rule does not exist in this security group.`);
      g.ingress = g.ingress.filter((x) => !rules.some((r) => sameRule(x, r)));
      return '<return>true</return>';
    },
    AllocateAddress: (p) => {
      if ((p.get('Domain') ?? 'vpc') !== 'vpc') return fault('InvalidParameterValue', `Invalid value '${p.get('Domain')}' for domain.`);
      const a: FakeAddress = { id: `eipalloc-${s.hex(5)}`, publicIp: `203.0.113.${(s.addresses.size % 250) + 1}`, tags: tagSpecs(p, 'elastic-ip') };
      s.addresses.set(a.id, a);
      return `<publicIp>${a.publicIp}</publicIp><domain>vpc</domain><allocationId>${a.id}</allocationId>`;
    },
    DescribeAddresses: (p) => {
      // DescribeAddresses does not page (no MaxResults in the API reference).
      const ids = numbered(p, 'AllocationId');
      for (const id of ids) if (!s.addresses.has(id)) return fault('InvalidAllocationID.NotFound', `The allocation ID '${id}' does not exist`);
      const fs = filters(p);
      const list = [...s.addresses.values()].filter((a) => (ids.length === 0 || ids.includes(a.id)) && matches(fs, a.tags, (n) => (n === 'allocation-id' ? a.id : n === 'instance-id' ? a.instanceId : n === 'public-ip' ? a.publicIp : n === 'domain' ? 'vpc' : undefined)));
      return `<addressesSet>${items(list.map((a) => addressXml(a, s)))}</addressesSet>`;
    },
    AssociateAddress: (p) => {
      if (!p.get('AllocationId')) return fault('MissingParameter', 'The request must contain the parameter AllocationId');
      const a = address(p.get('AllocationId'));
      if (isFault(a)) return a;
      const inst = s.instances.get(p.get('InstanceId') ?? '');
      if (!inst || inst.state === 'terminated') return fault('InvalidInstanceID.NotFound', `The instance ID '${p.get('InstanceId')}' does not exist`);
      // A VPC instance takes an address while running or stopped, not while it is between states.
      if (inst.state !== 'running' && inst.state !== 'stopped') return fault('IncorrectInstanceState', `The instance '${inst.id}' is not in a valid state for this operation.`);
      if (a.instanceId === inst.id) return `<return>true</return><associationId>${a.associationId}</associationId>`;
      if (a.instanceId && p.get('AllowReassociation') !== 'true') return fault('Resource.AlreadyAssociated', `resource ${a.id} is already associated with associate-id ${a.associationId}`);
      // An instance holds one Elastic IP on its primary address: a previous one is disassociated, stays allocated.
      for (const other of s.addresses.values()) if (other.instanceId === inst.id) s.unassociate(other);
      if (a.instanceId) s.unassociate(a);
      a.instanceId = inst.id;
      a.associationId = `eipassoc-${s.hex(6)}`;
      inst.publicIp = a.publicIp;
      return `<return>true</return><associationId>${a.associationId}</associationId>`;
    },
    DisassociateAddress: (p) => {
      const a = [...s.addresses.values()].find((x) => x.associationId && x.associationId === p.get('AssociationId'));
      if (!a) return fault('InvalidAssociationID.NotFound', `The association ID '${p.get('AssociationId')}' does not exist`);
      s.unassociate(a);
      return '<return>true</return>';
    },
    ReleaseAddress: (p) => {
      const a = address(p.get('AllocationId'));
      if (isFault(a)) return a;
      if (a.instanceId) return fault('InvalidIPAddress.InUse', `Address ${a.publicIp} is in use.`);
      s.addresses.delete(a.id);
      return '<return>true</return>';
    },
  };
}

/** The public IP a running instance shows: its Elastic IP, or an ephemeral one from the pool that changes on start. */
export const publicIpOf = (i: FakeInstance): string | undefined => (i.state === 'running' ? i.publicIp : undefined);
