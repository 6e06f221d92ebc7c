// Every request the GCE adapter builds, and every plan's detail, run through the Compute API's own message types
// (the protos shipped with @google-cloud/compute): a key `fromObject` would drop, an enum value outside its enum or a
// missing REQUIRED field fails here, since the REST client would silently send something else.
import { describe, expect, it } from 'vitest';
import { createGcpProvider, gcpRequests } from '../../src/provider/gcp/adapter.js';
import type { GcpPlacement } from '../../src/provider/gcp/requests.js';
import type { PlannedAction, VmSpec } from '../../src/provider/types.js';
import { checkRequest, requestTypeOf } from '../support/gce-protos.js';

const spec: VmSpec = {
  name: 'pmm-g2',
  image: { id: 'projects/fedora-coreos-cloud/global/images/family/fedora-coreos-stable' },
  ignition: '{"ignition":{"version":"3.3.0"}}',
  dataVolumeId: 'pmm-data',
  owner: { name: 'pmm', generation: 2 },
  record: '{"v":1}',
};

const placements: Record<string, GcpPlacement> = {
  'default network, static address': { project: 'p', zone: 'europe-west1-b' },
  'ephemeral address': { project: 'p', zone: 'europe-west1-b', address: 'ephemeral' },
  'custom VPC subnet only': { project: 'p', zone: 'us-central1-a', subnetwork: 'sub-a', machineType: 'n2-standard-2', diskType: 'pd-ssd' },
  'custom VPC and subnet by URL': { project: 'p', zone: 'us-central1-a', network: 'vpc-a', subnetwork: 'projects/p/regions/us-central1/subnetworks/sub-a', tags: ['extra'] },
};

/** Each builder's request with the client method (as plans name them) that sends it. */
function builtRequests(o: GcpPlacement): [string, Record<string, unknown>][] {
  const r = gcpRequests(o);
  return [
    ['compute.disks.insert', r.diskInsert({ name: 'pmm-data', sizeGiB: 20, deviceName: 'pmm-data', vmName: 'pmm' })],
    ['compute.disks.get', r.disk('pmm-data')],
    ['compute.disks.delete', r.disk('pmm-data')],
    ['compute.disks.list', r.list('labels.cnvm-managed = "true"')],
    ['compute.instances.insert', r.instanceInsert(spec, spec.ignition, { name: 'pmm-data', deviceName: 'pmm-data' })],
    ['compute.instances.insert', r.instanceInsert({ ...spec, owner: undefined, record: undefined }, spec.ignition)],
    ['compute.instances.get', r.instance('pmm-g2')],
    ['compute.instances.start', r.instance('pmm-g2')],
    ['compute.instances.stop', r.instance('pmm-g2')],
    ['compute.instances.delete', r.instance('pmm-g2')],
    ['compute.instances.getSerialPortOutput', r.instance('pmm-g2')],
    ['compute.instances.list', r.list('labels.cnvm-managed = "true"')],
    ['compute.instances.attachDisk', r.attachDisk('pmm-g2', 'pmm-data', 'pmm-data')],
    ['compute.instances.detachDisk', r.detachDisk('pmm-g2', 'pmm-data')],
    ['compute.instances.setDiskAutoDelete', r.setDiskAutoDelete('pmm-g2', 'pmm-data')],
    ['compute.instances.setMetadata', r.setMetadata('pmm-g2', 'abc=', [{ key: 'user-data', value: '{}' }])],
    ['compute.instances.addAccessConfig', r.addAccessConfig('pmm-g2', '198.51.100.7')],
    ['compute.instances.deleteAccessConfig', r.deleteAccessConfig('pmm-g2', 'External NAT')],
    ['compute.firewalls.insert', r.firewallInsert('pmm', ['198.51.100.0/24', '203.0.113.9/32'])],
    ['compute.firewalls.patch', r.firewallPatch('pmm', ['198.51.100.0/24'])],
    ['compute.firewalls.get', r.firewall('pmm')],
    ['compute.addresses.insert', r.addressInsert('pmm-address', 'pmm')],
    ['compute.addresses.get', r.address('pmm-address')],
    ['compute.addresses.delete', r.address('pmm-address')],
    ['compute.addresses.list', r.addressList('labels.cnvm-managed = "true"')],
  ];
}

function plannedActions(o: GcpPlacement): PlannedAction[] {
  const p = createGcpProvider({ ...o, firewallSourceRanges: ['198.51.100.0/24'] });
  const plan = p.plan;
  return [
    ...plan.createVolume({ name: 'pmm-data', sizeGiB: 20, deviceName: 'pmm-data' }),
    ...plan.deleteVolume('pmm-data'),
    ...plan.createVm(spec),
    ...plan.startVm('pmm-g2'),
    ...plan.stopVm('pmm-g2'),
    ...plan.destroyVm('pmm-g2'),
    ...plan.attachVolume('pmm-g2', 'pmm-data'),
    ...plan.detachVolume('pmm-g2', 'pmm-data'),
    ...(plan.reserveAddress?.('pmm-address') ?? []),
    ...(plan.assignAddress?.('pmm-address', 'pmm-g2') ?? []),
    ...(plan.releaseAddress?.('pmm-address') ?? []),
  ];
}

describe('GCE requests against the client protos', () => {
  for (const [label, o] of Object.entries(placements)) {
    it(`every request builder: ${label}`, () => {
      const problems = builtRequests(o).flatMap(([action, request]) => checkRequest(requestTypeOf(action), request).map((p) => `${action}: ${p}`));
      expect(problems).toEqual([]);
    });
    it(`every plan's detail: ${label}`, () => {
      const actions = plannedActions(o);
      expect(actions.length).toBeGreaterThan(8);
      const problems = actions.flatMap((a) => checkRequest(requestTypeOf(a.action), a.detail as Record<string, unknown>).map((p) => `${a.action}: ${p}`));
      expect(problems).toEqual([]);
    });
  }

  it('the static-address plan covers reserve, move and release; ephemeral has none', () => {
    expect(plannedActions(placements['default network, static address'] as GcpPlacement).map((a) => a.action)).toEqual(
      expect.arrayContaining(['compute.addresses.insert', 'compute.instances.deleteAccessConfig', 'compute.instances.addAccessConfig', 'compute.addresses.delete']),
    );
    expect(plannedActions(placements['ephemeral address'] as GcpPlacement).some((a) => a.action.startsWith('compute.addresses.'))).toBe(false);
  });

  it('the checker itself catches what fromObject would hide', () => {
    const ok = gcpRequests({ project: 'p', zone: 'europe-west1-b' }).instanceInsert(spec, '{}');
    const resource = ok.instanceResource as Record<string, unknown>;
    expect(checkRequest('InsertInstanceRequest', { ...ok, instanceResource: { ...resource, machinetype: 'x' } })).toEqual([expect.stringMatching(/^instanceResource\.machinetype: not a field of Instance/)]);
    const nic = { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE' }] };
    expect(checkRequest('InsertInstanceRequest', { ...ok, instanceResource: { ...resource, networkInterfaces: [nic] } })).toEqual([expect.stringMatching(/networkInterfaces\[0\]\.accessConfigs\[0\]\.type: "ONE_TO_ONE" is not one of AccessConfig\.type's values/)]);
    expect(checkRequest('DetachDiskInstanceRequest', { project: 'p', zone: 'z', instance: 'i' })).toEqual(['deviceName: required by DetachDiskInstanceRequest but missing']);
    expect(checkRequest('InsertFirewallRequest', { project: 'p', firewallResource: { name: 'f', allowed: [{ ipProtocol: 'tcp' }] } })).toEqual([expect.stringMatching(/allowed\[0\]\.ipProtocol: not a field of Allowed/)]);
    expect(checkRequest('SetDiskAutoDeleteInstanceRequest', { project: 'p', zone: 'z', instance: 'i', deviceName: 'd', autoDelete: 'false' })).toEqual([expect.stringMatching(/autoDelete: "false" became true/)]);
    expect(requestTypeOf('compute.addresses.insert')).toBe('InsertAddressRequest');
    expect(requestTypeOf('compute.instances.addAccessConfig')).toBe('AddAccessConfigInstanceRequest');
  });
});
