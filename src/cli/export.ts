// `cnvm export cloudformation | terraform --provider P`: the VM `cnvm provision` would create, as a template for
// another engine. Same flags, profiles and checks as provision (an unknown flag, a bad name or size fails the same
// way, with the same exit code); the desired state is the record's when this machine has one, with this command
// line's explicit changes, exactly as provision plans it. Writes the template to stdout or, atomically, to -o.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { StreamName } from '../image/stream.js';
import type { DesiredState } from '../lifecycle/record.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { IoError, UsageError } from './errors.js';
import { desiredFrom } from './inputs.js';
import { writeOutputFile } from './io.js';
import { exportTargets } from '../provider/registry.js';
import { PROVISION_FLAGS } from './lifecycle-flags.js';
import { settingsFrom } from './provider-commands.js';

/** `cnvm export <format>` → the providers that have it (the registry's export targets). */
const FORMAT_PROVIDERS = new Map<string, string[]>();
for (const t of exportTargets()) FORMAT_PROVIDERS.set(t.format, [...(FORMAT_PROVIDERS.get(t.format) ?? []), t.provider]);
const FORMATS = [...FORMAT_PROVIDERS.keys()].sort();
const usageLine = (format: string): string => {
  const providers = FORMAT_PROVIDERS.get(format) ?? [];
  return `cnvm export ${format}${providers.length > 1 ? ` --provider ${providers.join('|')}` : ''} --name NAME [provision flags] [-o FILE|DIR]`;
};

export const EXPORT_FLAGS: FlagSpec[] = [
  ...PROVISION_FLAGS.filter((f) => !['dry-run', 'json'].includes(f.name)),
  { name: 'output', short: 'o', value: true, help: 'write to FILE, or into DIR as NAME.cfn.json / NAME.tf.json (atomically); default stdout' },
  { name: 'stream-file', value: true, help: 'Fedora CoreOS stream metadata from FILE instead of builds.coreos.fedoraproject.org' },
];

const USAGE = `Usage: ${FORMATS.map(usageLine).join('\n       ')}

The VM cnvm provision would create (same flags, profiles and record), as a CloudFormation template or as
Terraform/OpenTofu JSON. The PMM admin password is never written: it comes from a secret at deploy time.
See docs/export.md.

${flagHelp(EXPORT_FLAGS)}
`;

type Flags = Record<string, string | boolean | string[] | undefined>;
const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

async function streamDocument(flags: Flags, stream: string): Promise<unknown> {
  const file = str(flags, 'stream-file');
  if (!file) {
    const { fetchStream } = await import('../image/stream.js');
    return fetchStream(stream);
  }
  const { LIMITS, readLimited } = await import('../util/read-limited.js');
  let text: string;
  try {
    text = readLimited(file, { limit: LIMITS.stream, what: '--stream-file' });
  } catch (err) {
    if ((err as { kind?: string }).kind !== 'io') throw err;
    const cause = (err as { cause?: NodeJS.ErrnoException }).cause;
    throw new IoError(`cannot read --stream-file ${file}: ${cause?.code === 'ENOENT' ? 'no such file' : (err as Error).message.replace(/^cannot read .*?: /, '')}`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--stream-file ${file}: not JSON (${(err as Error).message})`);
  }
}

/** -o DIR writes DIR/<default name>; -o FILE writes FILE. */
function outputPath(output: string, defaultName: string): string {
  return existsSync(output) && statSync(output).isDirectory() ? join(output, defaultName) : output;
}

export async function runExport(argv: string[]): Promise<number> {
  const [format, ...rest] = argv;
  if (format === undefined || format === '--help' || format === '-h') {
    process.stdout.write(USAGE);
    return format === undefined ? 2 : 0;
  }
  if (!FORMATS.includes(format)) throw new UsageError(`cnvm export: unknown format ${JSON.stringify(format)} (${FORMATS.join(', ')})\n\n${USAGE}`);
  const { flags, positionals } = parseArgs(rest, EXPORT_FLAGS);
  if (flags.help) return void process.stdout.write(USAGE), 0;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const name = str(flags, 'name');
  if (!name) throw new UsageError('--name is required');
  const providerFlag = str(flags, 'provider');
  const { exportTargetFor } = await import('../export/index.js');
  const target = exportTargetFor(format, providerFlag);
  const providerName = target.provider;
  const { validateVmName } = await import('../lifecycle/names.js');
  validateVmName(name);
  if (str(flags, 'image') && flags.stream) throw new UsageError('give --image or --stream, not both');
  const choices = ['admin-password-file', 'keep-password', 'allow-default-password'].filter((f) => flags[f] !== undefined);
  if (choices.length > 1) throw new UsageError(`give one of --${choices.join(', --')}`);
  if (flags['admin-password-file'] !== undefined) {
    throw new UsageError(
      format === 'cloudformation'
        ? '--admin-password-file would write the password into the template; store it in Secrets Manager and pass the secret\'s ARN as the AdminPasswordSecretArn parameter'
        : '--admin-password-file would write the password into the file; pass it at apply time (TF_VAR_admin_password) or let Terraform generate one',
    );
  }
  const { exportVm, streamImages } = await import('../export/index.js');
  const resolved = await settingsFrom(flags, providerName, name);
  const inputs = await desiredFrom(resolved, providerName);
  const [{ StateStore }, { defaultStateDir }, { applyOverrides }] = await Promise.all([import('../lifecycle/store.js'), import('../lifecycle/journal.js'), import('../lifecycle/desired.js')]);
  const { stateDirOf } = await import('./checked-flags.js');
  const record = new StateStore(stateDirOf(flags, defaultStateDir())).readRecord(providerName, name);
  const pinned = inputs.overrides.image ?? record?.desired.image ?? inputs.defaults.image;
  const stream = (typeof resolved.settings.stream === 'string' ? resolved.settings.stream : 'stable') as StreamName;
  // The stream is read when it names the image, or when given as a file (CloudFormation's per-region mapping).
  const images = !pinned || str(flags, 'stream-file') ? streamImages(await streamDocument(flags, stream), stream) : undefined;
  const base: DesiredState = record?.desired ?? { ...inputs.defaults, image: pinned ?? { id: `<FCOS ${stream}>`, ...(images?.release ? { version: images.release } : {}) } };
  const desired = applyOverrides(base, inputs.overrides);
  const keep = flags['keep-password'] === true || flags['allow-default-password'] === true || record?.password.policy === 'default';
  const secretNames = Object.keys(inputs.secretEnv);
  if (secretNames.length) {
    // A template is shared, reviewed and kept in git: a secret setting's value is never written into it.
    process.stderr.write(
      `warning: secret PMM settings are not written into the ${target.id} output: ${secretNames.join(', ')}; set them after the first boot in the server's env file on the data volume (docs/pmm-server.md)\n`,
    );
  }
  const { document, warnings } = await exportVm(target.id, { name, desired, imagePinned: pinned !== undefined, password: keep ? 'none' : 'secret', ...(images ? { images } : {}) });
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const text = `${JSON.stringify(document, null, 2)}\n`;
  const output = str(flags, 'output');
  if (!output) {
    process.stdout.write(text);
    return 0;
  }
  const path = outputPath(output, target.fileName(name));
  writeOutputFile(path, text);
  process.stderr.write(`${target.id}: wrote ${path}\n`);
  return 0;
}
