// `cnvm provision`: data volume (found or created, never formatted by cnvm), the PMM Ignition config for this
// provider's device naming, the VM with the volume attached, started. Re-running finds what exists and continues.
import { compose, fcos } from '../builders/index.js';
import type { PlannedAction, Provider, VmInfo, Volume } from '../provider/types.js';
import { formatIgnition, translate } from '../translate/index.js';
import type { DataDisk } from '../workload/data-disk.js';
import { pmmAdminPasswordFile, pmmServer, randomPassword, type PmmServerOptions } from '../workload/pmm-server.js';
import { currentVm, DATA_DEVICE_NAME, dataVolumeName } from './names.js';

export interface ProvisionRequest {
  name: string;
  image: { id: string; version?: string };
  dataSizeGiB: number;
  sshAuthorizedKeys?: string[];
  /** Set this admin password at first boot. Absent: a random one for a new data volume, none for a reused one. */
  adminPassword?: string;
  pmm?: Pick<PmmServerOptions, 'tag' | 'env' | 'publishHttp' | 'zincati'>;
  memoryMiB?: number;
  cpus?: number;
}

export interface ProvisionEvent {
  step: string;
  status: 'start' | 'done' | 'skip';
  detail?: string;
}

export interface ProvisionResult {
  vm: VmInfo;
  volume: Volume;
  /** Only when cnvm generated it now: show it once, it is stored nowhere else readable. */
  generatedAdminPassword?: string;
  warnings: string[];
}

export interface PlanStep {
  step: string;
  actions: PlannedAction[];
}

export interface ProvisionPlan {
  steps: PlanStep[];
  keeps: string[];
}

function dataDiskFor(provider: Provider, volume: Pick<Volume, 'id' | 'deviceName'>): DataDisk {
  switch (provider.name) {
    case 'libvirt':
      return { provider: 'libvirt', serial: volume.deviceName };
    case 'gcp':
      return { provider: 'gcp', deviceName: volume.deviceName };
    case 'aws':
      return { provider: 'aws', volumeId: volume.id };
  }
}

/** The Ignition config for this VM: the PMM recipe for the provider's device naming, plus keys and password. */
export async function renderProvisionConfig(
  provider: Provider,
  volume: Pick<Volume, 'id' | 'deviceName'>,
  req: ProvisionRequest,
  adminPassword: string | undefined,
): Promise<{ ignition: string; warnings: string[] }> {
  const pmm = pmmServer({
    ...req.pmm,
    dataDisk: dataDiskFor(provider, volume),
    adminPassword: 'later',
    sshAuthorizedKeys: req.sshAuthorizedKeys ?? [],
  });
  const fragment = adminPassword ? compose(pmm.fragment, pmmAdminPasswordFile(adminPassword)) : pmm.fragment;
  const result = await translate(fcos(fragment, '1.4.0'), { strict: true });
  if (!result.config) throw new Error(`the PMM config did not render: ${result.entries.map((e) => e.message).join('; ')}`);
  return { ignition: formatIgnition(result.config), warnings: pmm.warnings };
}

export function planProvision(provider: Provider, req: ProvisionRequest): ProvisionPlan {
  const volumeName = dataVolumeName(req.name);
  const volumeSpec = { name: volumeName, sizeGiB: req.dataSizeGiB, deviceName: DATA_DEVICE_NAME, vmName: req.name };
  return {
    steps: [
      { step: `data volume ${volumeName} (reused if it exists)`, actions: provider.plan.createVolume(volumeSpec) },
      { step: `VM ${req.name}`, actions: provider.plan.createVm({ name: req.name, image: req.image, ignition: '<rendered>', dataVolumeId: `<${volumeName}>` }) },
      { step: `start ${req.name}`, actions: provider.plan.startVm(req.name) },
    ],
    keeps: [`an existing ${volumeName} is attached as it is: never formatted, never wiped`],
  };
}

export async function provision(provider: Provider, req: ProvisionRequest, onEvent: (e: ProvisionEvent) => void = () => {}): Promise<ProvisionResult> {
  const volumeName = dataVolumeName(req.name);
  // After an upgrade the VM is a later generation (NAME-g2, …): that is the one to complete, not a new NAME.
  const existingVm = await currentVm(provider, req.name);
  const vmName = existingVm?.name ?? req.name;

  onEvent({ step: 'volume', status: 'start', detail: volumeName });
  const existingVolume = await provider.findVolume(volumeName);
  const volume = existingVolume ?? (await provider.createVolume({ name: volumeName, sizeGiB: req.dataSizeGiB, deviceName: DATA_DEVICE_NAME, vmName: req.name }));
  onEvent({ step: 'volume', status: existingVolume ? 'skip' : 'done', detail: existingVolume ? `${volumeName} exists; reusing it as it is` : `${volumeName} created` });
  if (volume.attachedTo && volume.attachedTo !== vmName) {
    throw new Error(`data volume ${volumeName} is attached to ${volume.attachedTo}; destroy or detach that VM first`);
  }

  let generatedAdminPassword: string | undefined;
  let warnings: string[] = [];
  let vm = existingVm;
  if (!vm) {
    // A reused volume already holds PMM's admin password: change it only when asked.
    let password = req.adminPassword;
    if (password === undefined && !existingVolume) password = generatedAdminPassword = randomPassword();
    onEvent({ step: 'config', status: 'start' });
    const rendered = await renderProvisionConfig(provider, volume, req, password);
    warnings = rendered.warnings;
    onEvent({ step: 'config', status: 'done' });
    onEvent({ step: 'vm', status: 'start', detail: req.name });
    vm = await provider.createVm({
      name: req.name,
      image: req.image,
      ignition: rendered.ignition,
      dataVolumeId: volume.id,
      ...(req.memoryMiB ? { memoryMiB: req.memoryMiB } : {}),
      ...(req.cpus ? { cpus: req.cpus } : {}),
    });
    onEvent({ step: 'vm', status: 'done', detail: `${req.name} defined` });
  } else {
    onEvent({ step: 'vm', status: 'skip', detail: `${vmName} exists` });
    if (!vm.volumes.some((v) => v.volumeId === volume.id)) vm = await provider.attachVolume(vmName, volume.id);
  }

  onEvent({ step: 'start', status: 'start', detail: vmName });
  vm = await provider.startVm(vmName);
  onEvent({ step: 'start', status: 'done', detail: vm.state });
  return { vm, volume: (await provider.findVolume(volumeName)) ?? volume, ...(generatedAdminPassword ? { generatedAdminPassword } : {}), warnings };
}
