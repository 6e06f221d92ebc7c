// How PMM is reached on EC2: the VM's own security group (`<vm>-pmm`, tagged with its owner) opening 443 and 22,
// and its Elastic IP (`<vm>-address`), which outlives instances and moves to each new generation.
//
// Who may reach PMM: every --allow-from CIDR; with none (and no --security-group of the user's), the operator's
// own public address, so the upgrade's health gate can reach PMM from here. With --allow-from the group's 443/22
// rules are made to equal the list (added ones authorized, others revoked). Without it cnvm only adds the
// operator's address and revokes nothing, so a second operator upgrading from elsewhere does not lock out the first.
import type { Ec2Session } from './client.js';
import { InUseError, NotFoundError } from '../errors.js';
import type { PlannedAction, StableAddress } from '../types.js';

export const MANAGED = 'cnvm:managed';
export const PMM_PORTS = [443, 22];

export interface Ec2Rule {
  port: number;
  cidr: string;
}

export const groupName = (owner: string): string => `${owner}-pmm`;
export const addressName = (owner: string): string => `${owner}-address`;

type Tag = { Key?: string; Value?: string };
type Permission = { IpProtocol?: string; FromPort?: number; ToPort?: number; IpRanges?: { CidrIp?: string }[] };
type Group = { GroupId?: string; IpPermissions?: Permission[] };
type Address = { AllocationId?: string; PublicIp?: string; InstanceId?: string; AssociationId?: string; Tags?: Tag[] };

const tagsOf = (values: Record<string, string>) => Object.entries(values).map(([Key, Value]) => ({ Key, Value }));
const permissionsOf = (rules: Ec2Rule[]) =>
  PMM_PORTS.map((port) => ({ IpProtocol: 'tcp', FromPort: port, ToPort: port, IpRanges: rules.filter((r) => r.port === port).map((r) => ({ CidrIp: r.cidr })) })).filter((p) => p.IpRanges.length);

/** Pure: the rules to add and to remove so the group's 443/22 rules become `wanted` (`exact`) or include it. */
export function ruleChanges(current: Ec2Rule[], wantedCidrs: string[], exact: boolean): { authorize: Ec2Rule[]; revoke: Ec2Rule[] } {
  const wanted = PMM_PORTS.flatMap((port) => wantedCidrs.map((cidr) => ({ port, cidr })));
  const same = (a: Ec2Rule, b: Ec2Rule): boolean => a.port === b.port && a.cidr === b.cidr;
  return {
    authorize: wanted.filter((w) => !current.some((c) => same(c, w))),
    revoke: exact ? current.filter((c) => PMM_PORTS.includes(c.port) && !wanted.some((w) => same(c, w))) : [],
  };
}

/** Pure request builders. */
export const networkRequests = {
  createGroup: (owner: string, vpcId: string) => ({
    GroupName: groupName(owner),
    Description: `PMM over HTTPS and ssh for ${owner} (created by cnvm)`,
    VpcId: vpcId,
    TagSpecifications: [{ ResourceType: 'security-group', Tags: tagsOf({ Name: groupName(owner), [MANAGED]: 'true', 'cnvm:owner': owner }) }],
  }),
  ingress: (groupId: string, rules: Ec2Rule[]) => ({ GroupId: groupId, IpPermissions: permissionsOf(rules) }),
  allocate: (name: string, owner: string) => ({ Domain: 'vpc', TagSpecifications: [{ ResourceType: 'elastic-ip', Tags: tagsOf({ Name: name, [MANAGED]: 'true', 'cnvm:owner': owner }) }] }),
  associate: (allocationId: string, instanceId: string) => ({ AllocationId: allocationId, InstanceId: instanceId, AllowReassociation: true }),
};

export function planGroup(owner: string, allowCidrs: string[] | undefined): PlannedAction[] {
  const cidrs = allowCidrs?.length ? allowCidrs : ["<this machine's public address>/32"];
  return [
    { action: 'ec2:CreateSecurityGroup', detail: { GroupName: groupName(owner) }, effect: `security group ${groupName(owner)} for ${owner} (if missing)` },
    {
      action: 'ec2:AuthorizeSecurityGroupIngress',
      detail: networkRequests.ingress(`<${groupName(owner)}>`, PMM_PORTS.flatMap((port) => cidrs.map((cidr) => ({ port, cidr })))),
      effect: `allow 443 and 22 from ${cidrs.join(', ')} (rules not there yet)`,
    },
    ...(allowCidrs?.length
      ? [{ action: 'ec2:RevokeSecurityGroupIngress', detail: { GroupId: `<${groupName(owner)}>`, keep: allowCidrs }, effect: `remove 443/22 rules for any CIDR other than ${allowCidrs.join(', ')}` }]
      : []),
  ];
}

export function awsNetwork(session: Ec2Session, region: string) {
  const { load, send, all } = session;

  /** Finds or creates the owner's group and brings its rules to the wanted CIDRs; returns its id. */
  async function ensureGroup(owner: string, vpcId: string, wantedCidrs: string[], exact: boolean): Promise<string> {
    const { ec2 } = await load();
    const filters = [
      { Name: 'group-name', Values: [groupName(owner)] },
      { Name: 'vpc-id', Values: [vpcId] },
    ];
    const found = await all<Group>('DescribeSecurityGroups', (t) => new ec2.DescribeSecurityGroupsCommand({ Filters: filters, MaxResults: 1000, ...(t ? { NextToken: t } : {}) }), (p) => p.SecurityGroups as Group[]);
    let group = found[0];
    if (!group) {
      const created = await send<{ GroupId?: string }>(`CreateSecurityGroup ${groupName(owner)}`, new ec2.CreateSecurityGroupCommand(networkRequests.createGroup(owner, vpcId) as never));
      group = { GroupId: created.GroupId ?? '', IpPermissions: [] };
    }
    const groupId = group.GroupId ?? '';
    const current = (group.IpPermissions ?? []).flatMap((p) => (p.IpProtocol === 'tcp' && p.FromPort === p.ToPort ? (p.IpRanges ?? []).map((r) => ({ port: p.FromPort ?? 0, cidr: r.CidrIp ?? '' })) : []));
    const { authorize, revoke } = ruleChanges(current, wantedCidrs, exact);
    if (authorize.length) await send(`AuthorizeSecurityGroupIngress ${groupName(owner)}`, new ec2.AuthorizeSecurityGroupIngressCommand(networkRequests.ingress(groupId, authorize) as never));
    if (revoke.length) await send(`RevokeSecurityGroupIngress ${groupName(owner)}`, new ec2.RevokeSecurityGroupIngressCommand(networkRequests.ingress(groupId, revoke) as never));
    return groupId;
  }

  const stable = async (a: Address | undefined, nameOfInstance: (id: string | undefined) => Promise<string | undefined>): Promise<StableAddress | undefined> => {
    if (!a?.AllocationId) return undefined;
    const assignedTo = await nameOfInstance(a.InstanceId);
    return { id: a.AllocationId, name: a.Tags?.find((t) => t.Key === 'Name')?.Value ?? a.AllocationId, ip: a.PublicIp ?? '', ...(assignedTo ? { assignedTo } : {}) };
  };

  async function describeAddress(nameOrId: string): Promise<Address | undefined> {
    const { ec2 } = await load();
    // DescribeAddresses does not page (the API reference gives it no MaxResults).
    if (nameOrId.startsWith('eipalloc-')) {
      try {
        const out = await send<{ Addresses?: Address[] }>(`DescribeAddresses ${nameOrId}`, new ec2.DescribeAddressesCommand({ AllocationIds: [nameOrId] }));
        return out.Addresses?.[0];
      } catch (err) {
        if (err instanceof NotFoundError) return undefined;
        throw err;
      }
    }
    const out = await send<{ Addresses?: Address[] }>(
      `DescribeAddresses ${nameOrId}`,
      new ec2.DescribeAddressesCommand({ Filters: [{ Name: 'tag:Name', Values: [nameOrId] }, { Name: `tag:${MANAGED}`, Values: ['true'] }] }),
    );
    return out.Addresses?.[0];
  }

  return {
    ensureGroup,
    async addressOf(instanceId: string): Promise<string | undefined> {
      const { ec2 } = await load();
      const out = await send<{ Addresses?: Address[] }>(`DescribeAddresses of ${instanceId}`, new ec2.DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
      return out.Addresses?.[0]?.PublicIp;
    },
    /**
     * Whether `ip` is an Elastic IP now associated elsewhere (or nowhere): an instance that lost its Elastic IP must
     * not report it. EC2 clears such an instance's public IP; a peer that keeps it (moto) is corrected here.
     */
    async elasticIpHeldElsewhere(ip: string, instanceId: string): Promise<boolean> {
      const { ec2 } = await load();
      const out = await send<{ Addresses?: Address[] }>(`DescribeAddresses ${ip}`, new ec2.DescribeAddressesCommand({ Filters: [{ Name: 'public-ip', Values: [ip] }] }));
      const a = out.Addresses?.[0];
      return !!a && a.InstanceId !== instanceId;
    },
    async findAddress(nameOrId: string, nameOfInstance: (id: string | undefined) => Promise<string | undefined>): Promise<StableAddress | undefined> {
      return stable(await describeAddress(nameOrId), nameOfInstance);
    },
    async reserveAddress(name: string, owner: string): Promise<string> {
      const { ec2 } = await load();
      const out = await send<{ AllocationId?: string }>(`AllocateAddress ${name}`, new ec2.AllocateAddressCommand(networkRequests.allocate(name, owner) as never));
      return out.AllocationId ?? '';
    },
    async assignAddress(allocationId: string, instanceId: string): Promise<void> {
      const { ec2 } = await load();
      await send(`AssociateAddress ${allocationId}`, new ec2.AssociateAddressCommand(networkRequests.associate(allocationId, instanceId)));
    },
    async releaseAddress(allocationId: string, liveInstance: (id: string | undefined) => Promise<string | undefined>): Promise<void> {
      const a = await describeAddress(allocationId);
      if (!a) return;
      const holder = await liveInstance(a.InstanceId);
      if (holder) throw new InUseError(`Elastic IP ${a.PublicIp} (${allocationId}) is associated with ${holder} in ${region}; refusing to release it`);
      const { ec2 } = await load();
      // EC2 drops the association when the instance terminates; a peer that keeps it (moto) is told explicitly.
      if (a.AssociationId) await send(`DisassociateAddress ${allocationId}`, new ec2.DisassociateAddressCommand({ AssociationId: a.AssociationId }));
      await send(`ReleaseAddress ${allocationId}`, new ec2.ReleaseAddressCommand({ AllocationId: allocationId }));
    },
  };
}
