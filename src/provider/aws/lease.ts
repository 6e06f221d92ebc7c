// EC2's VM lease: a security group named `<vm>-cnvm-lease` in the VM's VPC, its holder in its tags, created with
// them in one CreateSecurityGroup call. Why this is atomic: EC2 keeps group names unique per VPC and refuses a
// second CreateSecurityGroup of a name that exists (InvalidGroup.Duplicate), so of two concurrent creates exactly
// one succeeds, and the tags given in TagSpecifications are applied with the creation, never after it. A takeover
// deletes the stale group by its id (DeleteSecurityGroup GroupId): a group created again since has another id, so a
// second taker's delete finds nothing (InvalidGroup.NotFound) and never removes the newer lease. The group has no
// rules and no instances: it costs nothing and guards nothing but the name.
import type { Ec2Session } from './client.js';
import { NotFoundError, ProviderError } from '../errors.js';
import type { LeaseHolder, LeasePrimitives, StoredLease } from '../types.js';

export const leaseGroupName = (vm: string): string => `${vm}-cnvm-lease`;
const PREFIX = 'cnvm:lease:';
const FIELDS = ['holder', 'host', 'pid', 'command', 'acquiredAt', 'expiresAt', 'token'] as const;

type Tag = { Key?: string; Value?: string };
type Group = { GroupId?: string; Tags?: Tag[] };

/** Pure: the lease as tags (each value well under EC2's 256 characters) and back. */
export function leaseTags(lease: LeaseHolder): { Key: string; Value: string }[] {
  return FIELDS.map((f) => ({ Key: `${PREFIX}${f}`, Value: String(lease[f]).slice(0, 255) }));
}

export function leaseFromTags(tags: Tag[] | undefined): LeaseHolder | undefined {
  const get = (f: string): string | undefined => tags?.find((t) => t.Key === `${PREFIX}${f}`)?.Value;
  const token = get('token');
  if (!token) return undefined;
  return { holder: get('holder') ?? '?', host: get('host') ?? '?', pid: Number(get('pid') ?? 0), command: get('command') ?? '?', acquiredAt: get('acquiredAt') ?? '', expiresAt: get('expiresAt') ?? '', token };
}

export function awsLeases(session: Ec2Session, vpcOf: () => Promise<string>, region: string): LeasePrimitives {
  const { load, send } = session;

  async function find(key: string): Promise<Group | undefined> {
    const { ec2 } = await load();
    const vpcId = await vpcOf();
    const out = await send<{ SecurityGroups?: Group[] }>(
      `DescribeSecurityGroups ${leaseGroupName(key)}`,
      new ec2.DescribeSecurityGroupsCommand({ Filters: [{ Name: 'group-name', Values: [leaseGroupName(key)] }, { Name: 'vpc-id', Values: [vpcId] }] }),
    );
    return out.SecurityGroups?.[0];
  }

  const stored = (g: Group | undefined): StoredLease | undefined => {
    if (!g?.GroupId) return undefined;
    // A group with no lease tags: created by a run killed between… nothing: tags come with the creation. Treated
    // as expired so it can be taken over.
    const lease = leaseFromTags(g.Tags) ?? { holder: '?', host: '?', pid: 0, command: '?', acquiredAt: '', expiresAt: new Date(0).toISOString(), token: g.GroupId };
    return { lease, version: g.GroupId };
  };

  return {
    where: (key) => `EC2 security group ${leaseGroupName(key)} (${region})`,
    read: async (key) => stored(await find(key)),
    async create(key, lease) {
      const { ec2 } = await load();
      const vpcId = await vpcOf();
      try {
        await send(
          `CreateSecurityGroup ${leaseGroupName(key)}`,
          new ec2.CreateSecurityGroupCommand({
            GroupName: leaseGroupName(key),
            Description: `cnvm lease: who is changing VM ${key} (no rules; deleted when done)`,
            VpcId: vpcId,
            TagSpecifications: [{ ResourceType: 'security-group', Tags: [{ Key: 'Name', Value: leaseGroupName(key) }, { Key: 'cnvm:owner', Value: key }, ...leaseTags(lease)] }],
          }),
        );
        return true;
      } catch (err) {
        if (err instanceof ProviderError && /InvalidGroup\.Duplicate|already exists/i.test(err.message)) return false;
        throw err;
      }
    },
    async renew(key, current, lease) {
      const { ec2 } = await load();
      // Only the holder renews, and only the group it created (by id).
      const now = stored(await find(key));
      if (now?.version !== current.version || now.lease.token !== lease.token) return undefined;
      await send(`CreateTags ${leaseGroupName(key)}`, new ec2.CreateTagsCommand({ Resources: [current.version], Tags: leaseTags(lease) }));
      return { lease, version: current.version };
    },
    async remove(_key, current) {
      const { ec2 } = await load();
      try {
        await send(`DeleteSecurityGroup ${current.version}`, new ec2.DeleteSecurityGroupCommand({ GroupId: current.version }));
      } catch (err) {
        if (!(err instanceof NotFoundError)) throw err;
      }
    },
  };
}
