// The Ignition config of one VM generation: the PMM recipe for the provider's device naming, the record's keys and
// PMM options, and (only when a password is to be set) the root-only password file.
import { compose, fcos } from '../builders/index.js';
import { dataDevicePath } from '../provider/registry.js';
import type { Provider, Volume } from '../provider/types.js';
import { formatIgnition, translate } from '../translate/index.js';
import { pmmAdminPasswordFile, pmmServer } from '../workload/pmm-server.js';
import { CnvmError } from '../errors.js';
import type { DesiredState } from './record.js';

/** The Butane version every VM config is written in, and the Ignition spec it becomes (checked against the image). */
export const VM_CONFIG_BUTANE = '1.4.0';
export const VM_CONFIG_SPEC = '3.3.0';

export async function renderVmConfig(
  provider: Provider,
  volume: Pick<Volume, 'id' | 'deviceName'>,
  desired: DesiredState,
  adminPassword: string | undefined,
  secretEnv?: Record<string, string>,
): Promise<{ ignition: string; warnings: string[] }> {
  return renderConfigFor(dataDevicePath(provider.name, volume), desired, adminPassword, secretEnv);
}

/** The same, for the data disk's path in the guest (`cnvm export` renders without a provider instance). */
export async function renderConfigFor(
  dataDevice: string,
  desired: DesiredState,
  adminPassword: string | undefined,
  secretEnv?: Record<string, string>,
): Promise<{ ignition: string; warnings: string[] }> {
  // Secret settings only on the run that has them (the first boot's config); every later config (scrub, upgrade)
  // leaves them out: the server reads them from the env file it copied to the data volume on its first start.
  const env = { ...(desired.pmm.env ?? {}), ...(secretEnv ?? {}) };
  const pmm = pmmServer({
    ...(desired.pmm.tag ? { tag: desired.pmm.tag } : {}),
    ...(Object.keys(env).length ? { env } : {}),
    ...(desired.pmm.publishHttp !== undefined ? { publishHttp: desired.pmm.publishHttp } : {}),
    dataDevice,
    adminPassword: 'later',
    sshAuthorizedKeys: desired.sshKeys,
  });
  const fragment = adminPassword ? compose(pmm.fragment, pmmAdminPasswordFile(adminPassword)) : pmm.fragment;
  const result = await translate(fcos(fragment, VM_CONFIG_BUTANE), { strict: true });
  if (!result.config) throw new CnvmError('usage', `the PMM config did not render: ${result.entries.map((e) => e.message).join('; ')}`);
  return { ignition: formatIgnition(result.config), warnings: pmm.warnings };
}
