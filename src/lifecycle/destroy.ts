// `cnvm destroy`: removes the VM (and its boot disk). The data volume is kept unless deletion was asked for
// explicitly; the CLI also demands --yes for that.
import type { Provider } from '../provider/types.js';
import type { PlanStep } from './provision.js';
import { dataVolumeName, generations } from './names.js';

export interface DestroyRequest {
  name: string;
  deleteData: boolean;
}

export interface DestroyResult {
  vmRemoved: boolean;
  volumeDeleted: boolean;
  volumeKept?: string;
}

export async function planDestroy(provider: Provider, req: DestroyRequest): Promise<{ steps: PlanStep[]; keeps: string[] }> {
  const volume = await provider.findVolume(dataVolumeName(req.name));
  const vms = (await generations(provider, req.name)).map((v) => v.name);
  const steps: PlanStep[] = vms.map((vm) => ({ step: `remove VM ${vm} and its boot disk`, actions: provider.plan.destroyVm(vm) }));
  if (req.deleteData && volume) steps.push({ step: `DELETE data volume ${volume.name}`, actions: provider.plan.deleteVolume(volume.id) });
  return { steps, keeps: volume && !req.deleteData ? [`data volume ${volume.name} (${volume.id})`] : [] };
}

export async function destroy(provider: Provider, req: DestroyRequest): Promise<DestroyResult> {
  // Every generation of NAME: the current VM and any kept by `upgrade --keep-old`.
  const vms = await generations(provider, req.name);
  for (const vm of vms) await provider.destroyVm(vm.name);
  const volume = await provider.findVolume(dataVolumeName(req.name));
  if (volume && req.deleteData) {
    await provider.deleteVolume(volume.id);
    return { vmRemoved: vms.length > 0, volumeDeleted: true };
  }
  return { vmRemoved: vms.length > 0, volumeDeleted: false, ...(volume ? { volumeKept: volume.id } : {}) };
}
