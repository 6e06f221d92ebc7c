// A small flag parser: start-up time matters (the CLI should start about as fast as a bare `node`), and the flags
// are simple: `--name value`, `--name=value`, `-x value`, booleans, and positionals.
import { UsageError } from './errors.js';

export interface FlagSpec {
  /** Long name without dashes. */
  name: string;
  short?: string;
  /** Takes a value (otherwise a boolean switch). */
  value?: boolean;
  /** May be repeated; values collect into an array. */
  multiple?: boolean;
  help: string;
  /** The heading it is listed under in the command's help. */
  group?: string;
}

export interface ParsedArgs {
  flags: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export function parseArgs(argv: readonly string[], specs: readonly FlagSpec[]): ParsedArgs {
  const flags: ParsedArgs['flags'] = {};
  const positionals: string[] = [];
  const byLong = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short).map((s) => [s.short as string, s]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    let spec: FlagSpec | undefined;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
      inline = eq >= 0 ? arg.slice(eq + 1) : undefined;
      spec = byLong.get(name);
      if (!spec) throw new UsageError(`unknown flag --${name}`);
    } else if (arg.startsWith('-') && arg.length > 1) {
      spec = byShort.get(arg.slice(1, 2));
      if (!spec) throw new UsageError(`unknown flag ${arg}`);
      if (arg.length > 2) inline = arg.slice(2);
    } else {
      positionals.push(arg);
      continue;
    }
    if (spec.value) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`flag --${spec.name} needs a value`);
      if (spec.multiple) flags[spec.name] = [...((flags[spec.name] as string[] | undefined) ?? []), value];
      else flags[spec.name] = value;
    } else {
      if (inline !== undefined) throw new UsageError(`flag --${spec.name} takes no value`);
      flags[spec.name] = true;
    }
  }
  return { flags, positionals };
}

/** The flags, under their group headings in the order the groups first appear (ungrouped ones first). */
export function flagHelp(specs: readonly FlagSpec[]): string {
  const line = (s: FlagSpec): string => {
    const names = `${s.short ? `-${s.short}, ` : '    '}--${s.name}${s.value ? ' VALUE' : ''}`;
    return `  ${names.padEnd(30)} ${s.help}`;
  };
  if (!specs.some((s) => s.group)) return specs.map(line).join('\n');
  const groups = [...new Set(specs.map((s) => s.group ?? ''))];
  return groups
    .map((g) => [...(g ? [`${g}:`] : []), ...specs.filter((s) => (s.group ?? '') === g).map(line)].join('\n'))
    .join('\n\n');
}
