// The library's PMM recipe (`import { pmmServer } from 'cnvm'`): the workload's recipe, whose data disk is a stable
// device path, with the disk also nameable the way a provider attaches it (`{ provider: 'libvirt', serial: … }`);
// the provider's module turns that into the path, checked with its platform's rules. The workload itself knows no
// provider.
import { dataDiskDevice, type DataDisk } from './provider/registry.js';
import { PmmOptionsError } from './workload/errors.js';
import { pmmServer as recipe, type PmmServer, type PmmServerOptions as RecipeOptions } from './workload/pmm-server.js';

export interface PmmServerOptions extends RecipeOptions {
  /** The data disk as its provider names it; give this or `dataDevice`, not both. */
  dataDisk?: DataDisk;
}

export function pmmServer(options: PmmServerOptions = {}): PmmServer {
  const { dataDisk, ...rest } = options;
  if (dataDisk === undefined) return recipe(rest);
  if (rest.dataDevice !== undefined) throw new PmmOptionsError('give dataDisk or dataDevice, not both');
  return recipe({ ...rest, dataDevice: dataDiskDevice(dataDisk) });
}
