// The cnvm command line. This layer only parses flags, prints results and maps typed errors to exit codes; the
// commands themselves are plain async functions, imported lazily so `cnvm generate` loads nothing it doesn't use.
import { formatEntry, type ReportEntry } from '../report.js';
import { flagHelp, parseArgs, type FlagSpec } from './args.js';
import { isCnvmError } from '../errors.js';
import { InvalidConfigError, UsageError } from './errors.js';
import { EXIT_CODES, INTERNAL_ERROR_EXIT } from './exit-codes.js';
import { jsonError } from './output.js';
import { stopAllProgress } from './progress.js';
import { providerNames } from '../provider/registry.js';

const GENERATE_FLAGS: FlagSpec[] = [
  { name: 'strict', short: 's', help: 'fail on any warning' },
  { name: 'pretty', short: 'p', help: 'output formatted JSON' },
  { name: 'files-dir', short: 'd', value: true, help: 'allow embedding local files from this directory' },
  { name: 'output', short: 'o', value: true, help: 'write to FILE instead of stdout (atomically)' },
  { name: 'out-dir', value: true, help: 'render every INPUT (files, or directories of them) in one run, each to DIR/NAME.ign' },
  { name: 'check', short: 'c', help: 'check the config only; write nothing' },
  { name: 'raw', short: 'r', help: 'never wrap in a MachineConfig (accepted for butane compatibility; no effect here)' },
  { name: 'provider', value: true, help: `passed to a TypeScript config module (${providerNames().join(', ')})` },
  { name: 'json', help: 'machine-readable result on stdout: {ok, entries, config}' },
  { name: 'help', short: 'h', help: 'show this help' },
];

const VALIDATE_FLAGS: FlagSpec[] = [
  { name: 'json', help: 'machine-readable result on stdout' },
  { name: 'help', short: 'h', help: 'show this help' },
];

const USAGE = `Usage: cnvm <command> [flags]

Commands:
  generate [flags] [INPUT]   Translate Butane YAML (or a TypeScript config module) to Ignition JSON, like butane
  validate [--json] [FILE]   Check an Ignition config against its spec version
  provision --provider P --name NAME [flags]   Create (or complete) a PMM server VM with its data volume
  upgrade --provider P --name NAME [--stream S | --image X] [--yes]   New OS image, same data volume
  status --provider P --name NAME [--json]     Show the VM and its data volume
  status --all [--provider P,…] [--json]       Every cnvm VM on the providers, one line each
  config show --provider P [--name N] [--stage S]   The merged settings and where each value came from
  destroy --provider P --name NAME [--delete-data --yes]   Remove the VM; the data volume is kept unless told
  export cloudformation|terraform --name NAME [flags]   The same VM as a CloudFormation / Terraform template
  list [--provider P,…] [--json]               Every cnvm VM: generation, state, image, PMM URL, data volume
  ssh NAME --provider P [-- COMMAND...]        ssh to the VM as core
  console NAME --provider P                    The VM's serial console output
  logs NAME --provider P [--unit U | --ignition]   A unit's journal over ssh, or Ignition's first-boot result
  pmm releases [--json]      Stable PMM 3 releases (what --pmm-tag resolves against)
  pmm token create|rotate|list|revoke NAME   PMM service-account tokens into your secret store
  help COMMAND               That command's flags and examples
  version, --version, -V     Print the version

Run 'cnvm help <command>' (or 'cnvm <command> --help') for a command's flags.`;

function printEntries(entries: readonly ReportEntry[]): void {
  for (const e of entries) process.stderr.write(`${formatEntry(e)}\n`);
}

/** Why a config produced no output: errors, or (with --strict) only warnings. Butane's wording. */
const whyInvalid = (entries: readonly ReportEntry[]): string =>
  entries.some((e) => e.kind === 'error') ? 'config is invalid' : 'config produced warnings and --strict was specified';

/** The rendering flags one generate run and a bulk one share. */
const renderFlags = (flags: Record<string, string | boolean | string[] | undefined>) => ({
  ...(typeof flags['files-dir'] === 'string' ? { filesDir: flags['files-dir'] } : {}),
  ...(typeof flags.provider === 'string' ? { provider: flags.provider } : {}),
  strict: flags.strict === true,
  pretty: flags.pretty === true,
  check: flags.check === true,
});

async function runGenerate(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, GENERATE_FLAGS);
  if (flags.help) {
    process.stdout.write(`Usage: cnvm generate [flags] [INPUT]\n       cnvm generate [flags] --out-dir DIR INPUT…\n\n${flagHelp(GENERATE_FLAGS)}\n`);
    return 0;
  }
  if (typeof flags['out-dir'] === 'string') return runGenerateMany(flags, positionals, flags['out-dir']);
  if (positionals.length > 1) throw new UsageError('at most one INPUT file (give --out-dir DIR to render many in one run)');
  const { generate } = await import('./generate.js');
  const outcome = await generate({
    ...(positionals[0] ? { input: positionals[0] } : {}),
    ...(typeof flags.output === 'string' ? { output: flags.output } : {}),
    ...renderFlags(flags),
  });
  const { result } = outcome;
  if (flags.json) {
    (await import('./output.js')).jsonResult('generate', !!result.config, {
      entries: result.entries,
      config: result.config ?? null,
      ...(result.config ? {} : { error: { kind: 'invalid-config', message: `${outcome.file}: ${whyInvalid(result.entries)}`, exitCode: EXIT_CODES['invalid-config'] } }),
    });
    return result.config ? 0 : 1;
  }
  printEntries(result.entries);
  if (!result.config) {
    const hasError = result.entries.some((e) => e.kind === 'error');
    throw new InvalidConfigError(
      hasError ? `Error translating config: ${outcome.file}: config is invalid` : 'Config produced warnings and --strict was specified',
    );
  }
  if (!flags.check && typeof flags.output !== 'string' && outcome.text) process.stdout.write(outcome.text);
  return 0;
}

async function runGenerateMany(flags: Record<string, string | boolean | string[] | undefined>, inputs: string[], outDir: string): Promise<number> {
  if (typeof flags.output === 'string') throw new UsageError('give either --output FILE (one INPUT) or --out-dir DIR (many), not both');
  if (!inputs.length) throw new UsageError('--out-dir needs at least one INPUT file or directory');
  if (!outDir) throw new UsageError('--out-dir needs a directory');
  const { generateMany } = await import('./generate-many.js');
  const files = await generateMany({
    inputs,
    outDir,
    ...renderFlags(flags),
  });
  const failed = files.filter((f) => !f.ok);
  const summary = `${failed.length} of ${files.length} configs are invalid`;
  if (flags.json) {
    (await import('./output.js')).jsonResult('generate', failed.length === 0, {
      files,
      ...(failed.length ? { error: { kind: 'invalid-config', message: summary, exitCode: EXIT_CODES['invalid-config'] } } : {}),
    });
    return failed.length ? EXIT_CODES['invalid-config'] : 0;
  }
  for (const f of files) {
    printEntries(f.entries);
    if (!f.ok) process.stderr.write(`Error translating config: ${f.input}: ${whyInvalid(f.entries)}\n`);
  }
  if (failed.length) throw new InvalidConfigError(summary);
  return 0;
}

async function runValidate(argv: string[]): Promise<number> {
  const { flags, positionals } = parseArgs(argv, VALIDATE_FLAGS);
  if (flags.help) {
    process.stdout.write(`Usage: cnvm validate [--json] [FILE]\n\n${flagHelp(VALIDATE_FLAGS)}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError('at most one FILE');
  const { validateFile } = await import('./validate.js');
  const outcome = await validateFile(positionals[0]);
  const ok = !outcome.entries.some((e) => e.kind === 'error');
  if (flags.json) {
    (await import('./output.js')).jsonResult('validate', ok, {
      file: outcome.file,
      version: outcome.version ?? null,
      entries: outcome.entries,
      ...(ok ? {} : { error: { kind: 'invalid-config', message: `${outcome.file}: config is invalid`, exitCode: EXIT_CODES['invalid-config'] } }),
    });
  } else {
    printEntries(outcome.entries);
  }
  return ok ? 0 : EXIT_CODES['invalid-config'];
}

/** Set by scripts/bundle.mjs; the unbundled build (tests, library use) reads package.json instead. */
declare const __CNVM_VERSION__: string | undefined;

async function packageVersion(): Promise<string> {
  if (typeof __CNVM_VERSION__ === 'string') return __CNVM_VERSION__;
  const { readFileSync } = await import('node:fs');
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'generate':
      return runGenerate(rest);
    case 'validate':
      return runValidate(rest);
    case 'provision':
      return (await import('./provider-commands.js')).runProvision(rest);
    case 'status':
      return (await import('./provider-commands.js')).runStatus(rest);
    case 'upgrade':
      return (await import('./provider-commands.js')).runUpgrade(rest);
    case 'config':
      return (await import('./provider-commands.js')).runConfig(rest);
    case 'destroy':
      return (await import('./provider-commands.js')).runDestroy(rest);
    case 'export':
      return (await import('./export.js')).runExport(rest);
    case 'list':
      return (await import('./vm-access.js')).runList(rest);
    case 'ssh':
      return (await import('./vm-access.js')).runSsh(rest);
    case 'console':
      return (await import('./vm-access.js')).runConsole(rest);
    case 'logs':
      return (await import('./vm-access.js')).runLogs(rest);
    case 'pmm':
      return (await import('./pmm.js')).runPmm(rest);
    case 'version':
    case '--version':
    case '-V': {
      process.stdout.write(`cnvm ${await packageVersion()}\n`);
      return 0;
    }
    case 'help':
      // `cnvm help provision` is `cnvm provision --help`.
      if (rest[0] === 'config') return main(['config', 'show', '--help']);
      if (rest[0] && rest[0] !== 'help' && !rest[0].startsWith('-')) return main([rest[0], ...rest.slice(1), '--help']);
      process.stdout.write(`${USAGE}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 2 : 0;
    default:
      throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
  }
}

/** Commands that hand the terminal to ssh, which handles Ctrl-C itself (cnvm waits for it and exits with its status). */
const HANDS_OVER_TERMINAL = new Set(['ssh', 'logs']);
const JSON_COMMANDS = new Set(['generate', 'validate', 'provision', 'upgrade', 'status', 'destroy', 'config show', 'list', 'ssh', 'console', 'logs', 'pmm token']);

/** Runs a command line and returns the exit code; typed errors become their exit codes here and nowhere else. */
export async function run(argv: string[]): Promise<number> {
  const json = argv.includes('--json');
  const command = argv[0] === 'config' ? 'config show' : argv[0] === 'pmm' && argv[1] === 'token' ? 'pmm token' : (argv[0] ?? '');
  // With --json every failure is also one envelope on stdout, for every command (the message stays on stderr).
  const fail = (kind: string, message: string, exitCode: number): number => {
    if (json && JSON_COMMANDS.has(command)) jsonError(command, { kind, message, exitCode });
    return exitCode;
  };
  // Ctrl-C: every step is recorded before and after it runs, so the same command continues from where it was.
  const onSigint = (): void => {
    stopAllProgress();
    const message = 'interrupted; run the same command again to continue (cnvm keeps a record and a journal of each step)';
    process.stderr.write(`\ncnvm: ${message}\n`);
    fail('interrupted', message, EXIT_CODES.interrupted);
    process.exit(EXIT_CODES.interrupted);
  };
  if (!HANDS_OVER_TERMINAL.has(command)) process.once('SIGINT', onSigint);
  try {
    return await main(argv);
  } catch (err) {
    if (isCnvmError(err)) {
      const cause = (err as { cause?: unknown }).cause;
      const detail = cause instanceof Error && !err.message.includes(cause.message) ? `\n  (${cause.message.split('\n')[0]})` : '';
      // Usage and config errors are printed as they are (they may be multi-line help or butane-style lines).
      const prefix = err.kind === 'usage' || err.kind === 'invalid-config' ? '' : 'cnvm: ';
      process.stderr.write(`${prefix}${err.message}${detail}\n`);
      return fail(err.kind, err.message, EXIT_CODES[err.kind]);
    }
    process.stderr.write(`cnvm: internal error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    return fail('internal', err instanceof Error ? err.message : String(err), INTERNAL_ERROR_EXIT);
  } finally {
    process.off('SIGINT', onSigint);
  }
}
