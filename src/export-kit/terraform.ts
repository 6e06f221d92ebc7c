// `cnvm export terraform --provider P`: one PMM server as Terraform/OpenTofu JSON (`*.tf.json`).
// Each provider's file has the same shape: the data volume with `lifecycle.prevent_destroy`, the instance/domain
// with the rendered Ignition, the volume attached under cnvm's device naming, the stable address, the firewall,
// variables (defaults from the VM's desired state) and outputs (PMM URL). A new image replaces the instance only.
import { CnvmError } from '../errors.js';
import type { IgnitionPiece } from './pieces.js';
import type { ExportSubject } from './subject.js';

export type Json = Record<string, unknown>;

/** A Terraform provider requirement: each target names its own (docs/export.md, test fixtures). */
export interface TfProvider {
  source: string;
  version: string;
}

/** For the generated admin password. */
export const RANDOM_PROVIDER: TfProvider = { source: 'hashicorp/random', version: '~> 3.6' };

/** The target's own Terraform provider, and `random` when the password is generated. */
export const requiredProviders = (s: ExportSubject, own: Record<string, TfProvider>): Record<string, TfProvider> => ({ ...own, ...(s.password === 'secret' ? { random: RANDOM_PROVIDER } : {}) });

/** Terraform reads `${` and `%{` in every JSON string as template syntax; the Ignition's own stay literal. */
export const tfLiteral = (text: string): string => text.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');

/**
 * The Ignition as a Terraform string template: literal pieces escaped, holes as expressions. The password goes into
 * a `data:,` URL: percent-encoded by Terraform (urlencode writes a space as `+`, which a data URL would keep).
 */
export function ignitionTemplate(pieces: readonly IgnitionPiece[], volumeSerial?: string): string {
  return pieces
    .map((p) => {
      if (typeof p === 'string') return tfLiteral(p);
      if (p.hole === 'adminPassword') return '${replace(urlencode(local.admin_password), "+", "%20")}';
      if (!volumeSerial) throw new CnvmError('usage', 'the Ignition config names the data volume by an id this provider does not have');
      return `\${${volumeSerial}}`;
    })
    .join('');
}

/** The admin password: the user's (sensitive variable) or a generated one, both only in Terraform's state. */
export function passwordParts(s: ExportSubject): { variable: Json; resource: Json; local: Json; output: Json } {
  if (s.password !== 'secret') return { variable: {}, resource: {}, local: {}, output: {} };
  return {
    variable: {
      admin_password: {
        type: 'string',
        default: null,
        nullable: true,
        sensitive: true,
        description: 'PMM admin password (set at each first boot); null: a generated one (output admin_password)',
      },
    },
    resource: { random_password: { pmm_admin: { length: 24, special: false } } },
    local: { admin_password: '${var.admin_password != null ? var.admin_password : random_password.pmm_admin.result}' },
    output: { admin_password: { value: '${local.admin_password}', sensitive: true, description: 'PMM admin password (terraform output -raw admin_password)' } },
  };
}

/** Assembles one `*.tf.json` document. */
export function tfDocument(parts: {
  providers: Record<string, TfProvider>;
  provider: Json;
  variable: Json;
  locals?: Json;
  data?: Json;
  resource: Json;
  output: Json;
}): Json {
  return {
    '//': 'Exported by cnvm (docs/export.md). Works with Terraform >= 1.5 and OpenTofu.',
    terraform: { required_version: '>= 1.5', required_providers: Object.fromEntries(Object.entries(parts.providers).map(([k, v]) => [k, { ...v }])) },
    provider: parts.provider,
    variable: parts.variable,
    ...(parts.locals && Object.keys(parts.locals).length ? { locals: parts.locals } : {}),
    ...(parts.data ? { data: parts.data } : {}),
    resource: parts.resource,
    output: parts.output,
  };
}

/** Merges resource maps of the same type. */
export function mergeResources(...maps: Json[]): Json {
  const out: Json = {};
  for (const m of maps) for (const [type, byName] of Object.entries(m)) out[type] = { ...((out[type] as Json | undefined) ?? {}), ...(byName as Json) };
  return out;
}
