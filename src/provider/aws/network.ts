// How PMM is reached on EC2: the VM's own security group (`<vm>-pmm`, tagged with its owner) opening 443 and 22,
// and its Elastic IP (`<vm>-address`), which outlives instances and moves to each new generation.
//
// Who may reach PMM: every --allow-from CIDR; with none (and no --security-group of the user's), the operator's
// own public address, so the upgrade's health gate can reach PMM from here. With --allow-from the group's 443/22
// rules are made to equal the list (added ones authorized, others revoked). Without it cnvm only adds the
// operator's address and revokes nothing, so a second operator upgrading from elsewhere does not lock out the first.
import type { Ec2Session } from './client.js';
import { InUseError, NotFoundError } from '../errors.js';
import { createOnce, settle } from './repeat-safe.js';
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
type Group = { GroupId?: string; IpPermissions?: Permission[]; Tags?: Tag[] };
/** What one read of all Elastic IPs answers; the same answers as addressOf and elasticIpHeldElsewhere. */
export interface AddressView {
  addressOf(instanceId: string): string | undefined;
  heldElsewhere(ip: string, instanceId: string): boolean;
}
type Address = { AllocationId?: string; PublicIp?: string; InstanceId?: string; AssociationId?: string; Tags?: Tag[] };

const tagOf = (tags: Tag[] | undefined, key: string): string | undefined => tags?.find((t) => t.Key === key)?.Value;
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
  const { load, send, sendOnce, all } = session;

  const groupFilters = (owner: string, vpcId: string) => [
    { Name: 'group-name', Values: [groupName(owner)] },
    { Name: 'vpc-id', Values: [vpcId] },
  ];
  async function findGroup(owner: string, vpcId: string): Promise<Group | undefined> {
    const { ec2 } = await load();
    const found = await all<Group>('DescribeSecurityGroups', (t) => new ec2.DescribeSecurityGroupsCommand({ Filters: groupFilters(owner, vpcId), MaxResults: 1000, ...(t ? { NextToken: t } : {}) }), (p) => p.SecurityGroups as Group[]);
    return found[0];
  }
  const rulesOf = (group: Group): Ec2Rule[] =>
    (group.IpPermissions ?? []).flatMap((p) => (p.IpProtocol === 'tcp' && p.FromPort === p.ToPort ? (p.IpRanges ?? []).map((r) => ({ port: p.FromPort ?? 0, cidr: r.CidrIp ?? '' })) : []));

  /**
   * Authorizes and revokes what `changes` says the group's rules need. A retried Authorize whose first attempt
   * landed is "duplicate", a retried Revoke "not found": the rules are read again, and the call succeeded when
   * nothing is left to do (else the rest is sent once more).
   */
  async function converge(owner: string, vpcId: string, groupId: string, current: Ec2Rule[], changes: (current: Ec2Rule[]) => { authorize: Ec2Rule[]; revoke: Ec2Rule[] }): Promise<void> {
    const { ec2 } = await load();
    const { authorize, revoke } = changes(current);
    const pending = async (): Promise<{ authorize: Ec2Rule[]; revoke: Ec2Rule[] }> => {
      const now = await findGroup(owner, vpcId);
      return changes(now ? rulesOf(now) : []);
    };
    const authorizeNow = (rules: Ec2Rule[]) => send(`AuthorizeSecurityGroupIngress ${groupName(owner)}`, new ec2.AuthorizeSecurityGroupIngressCommand(networkRequests.ingress(groupId, rules) as never));
    const revokeNow = (rules: Ec2Rule[]) => send(`RevokeSecurityGroupIngress ${groupName(owner)}`, new ec2.RevokeSecurityGroupIngressCommand(networkRequests.ingress(groupId, rules) as never));
    if (authorize.length)
      await settle(
        () => authorizeNow(authorize),
        async (err) => {
          if (!/Duplicate/.test(err.message)) return false;
          const left = (await pending()).authorize;
          if (left.length) await authorizeNow(left);
          return true;
        },
      );
    if (revoke.length)
      await settle(
        () => revokeNow(revoke),
        async (err) => {
          if (!(err instanceof NotFoundError)) return false;
          const left = (await pending()).revoke;
          if (left.length) await revokeNow(left);
          return true;
        },
      );
  }

  /** The owner's group's 443/22 rules; undefined when cnvm has no group for it. */
  async function accessRules(owner: string, vpcId: string): Promise<Ec2Rule[] | undefined> {
    const group = await findGroup(owner, vpcId);
    return group && tagOf(group.Tags, 'cnvm:owner') === owner ? rulesOf(group).filter((r) => PMM_PORTS.includes(r.port)) : undefined;
  }

  /** Makes the owner's group's 443/22 rules exactly `rules` (a rollback's restore); no group: nothing to restore. */
  async function setRules(owner: string, vpcId: string, rules: Ec2Rule[]): Promise<void> {
    const group = await findGroup(owner, vpcId);
    if (!group?.GroupId || tagOf(group.Tags, 'cnvm:owner') !== owner) return;
    const same = (a: Ec2Rule, b: Ec2Rule): boolean => a.port === b.port && a.cidr === b.cidr;
    await converge(owner, vpcId, group.GroupId, rulesOf(group), (current) => ({
      authorize: rules.filter((r) => !current.some((c) => same(c, r))),
      revoke: current.filter((c) => PMM_PORTS.includes(c.port) && !rules.some((r) => same(c, r))),
    }));
  }

  /** Finds or creates the owner's group and brings its rules to the wanted CIDRs; returns its id. */
  async function ensureGroup(owner: string, vpcId: string, wantedCidrs: string[], exact: boolean): Promise<string> {
    const { ec2 } = await load();
    // A lost CreateSecurityGroup reply: the group is there (EC2 says "duplicate" to a second create) and is ours
    // when it carries the owner tag it was created with.
    const ours = async (): Promise<Group | undefined> => {
      const g = await findGroup(owner, vpcId);
      return g && tagOf(g.Tags, 'cnvm:owner') === owner ? g : undefined;
    };
    const group =
      (await findGroup(owner, vpcId)) ??
      (await createOnce(async () => {
        const created = await sendOnce<{ GroupId?: string }>(`CreateSecurityGroup ${groupName(owner)}`, new ec2.CreateSecurityGroupCommand(networkRequests.createGroup(owner, vpcId) as never));
        return { GroupId: created.GroupId ?? '', IpPermissions: [] } as Group;
      }, ours));
    const groupId = group.GroupId ?? '';
    await converge(owner, vpcId, groupId, rulesOf(group), (current) => ruleChanges(current, wantedCidrs, exact));
    return groupId;
  }

  /**
   * Deletes the owner's group once no live instance uses it (the VM's last generation is terminated). EC2 may
   * still see the terminated instance's interface for a moment (DependencyViolation): that is waited out.
   */
  async function dropGroupIfUnused(owner: string, vpcId: string, liveMembers: (groupId: string) => Promise<number>): Promise<void> {
    const group = await findGroup(owner, vpcId);
    if (!group?.GroupId || tagOf(group.Tags, 'cnvm:owner') !== owner) return;
    if ((await liveMembers(group.GroupId)) > 0) return;
    const { ec2 } = await load();
    for (let attempt = 1; ; attempt++) {
      try {
        await settle(
          () => send(`DeleteSecurityGroup ${groupName(owner)}`, new ec2.DeleteSecurityGroupCommand({ GroupId: group.GroupId })),
          async (err) => err instanceof NotFoundError,
        );
        return;
      } catch (err) {
        if (!(err instanceof InUseError) || attempt >= 20) throw err;
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
      }
    }
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
    accessRules,
    setRules,
    dropGroupIfUnused,
    async addressOf(instanceId: string): Promise<string | undefined> {
      const { ec2 } = await load();
      const out = await send<{ Addresses?: Address[] }>(`DescribeAddresses of ${instanceId}`, new ec2.DescribeAddressesCommand({ Filters: [{ Name: 'instance-id', Values: [instanceId] }] }));
      return out.Addresses?.[0]?.PublicIp;
    },
    /**
     * Every Elastic IP of the region in one DescribeAddresses, answering addressOf and elasticIpHeldElsewhere for
     * many instances at once (list: one call, not two per VM).
     */
    async addressView(): Promise<AddressView> {
      const { ec2 } = await load();
      const out = await send<{ Addresses?: Address[] }>('DescribeAddresses', new ec2.DescribeAddressesCommand({}));
      const all = out.Addresses ?? [];
      return {
        addressOf: (instanceId) => all.find((a) => a.InstanceId === instanceId)?.PublicIp,
        heldElsewhere: (ip, instanceId) => {
          const a = all.find((x) => x.PublicIp === ip);
          return !!a && a.InstanceId !== instanceId;
        },
      };
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
      // AllocateAddress has no ClientToken: after a lost reply the address is found by the tags it was created with.
      const ours = async (): Promise<string | undefined> => {
        const a = await describeAddress(name);
        return a?.AllocationId && tagOf(a.Tags, 'cnvm:owner') === owner ? a.AllocationId : undefined;
      };
      return (
        (await ours()) ??
        createOnce(async () => (await sendOnce<{ AllocationId?: string }>(`AllocateAddress ${name}`, new ec2.AllocateAddressCommand(networkRequests.allocate(name, owner) as never))).AllocationId ?? '', ours)
      );
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
      // A retry whose first attempt landed finds nothing to disassociate or release: that is the call's success.
      const gone = async (err: unknown): Promise<boolean> => err instanceof NotFoundError;
      if (a.AssociationId) await settle(() => send(`DisassociateAddress ${allocationId}`, new ec2.DisassociateAddressCommand({ AssociationId: a.AssociationId })), gone);
      await settle(() => send(`ReleaseAddress ${allocationId}`, new ec2.ReleaseAddressCommand({ AllocationId: allocationId })), gone);
    },
  };
}
