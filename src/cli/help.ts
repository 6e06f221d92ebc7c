// Each command's help: what it does, its usage line, only its own flags under group headings, and examples.
// `cnvm COMMAND --help` and `cnvm help COMMAND` print the same text.
import { PROVIDER_MODULES } from '../provider/registry.js';
import { flagHelp, type FlagSpec } from './args.js';
import { CONFIG_FLAGS, CONSOLE_FLAGS, DESTROY_FLAGS, LIST_FLAGS, LOGS_FLAGS, PROVISION_FLAGS, SSH_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';

interface CommandHelp {
  usage: string;
  summary: string;
  flags: FlagSpec[];
}

/** Examples that span providers, with the registry's names. */
const ACROSS_PROVIDERS: Record<string, (names: string) => string[]> = {
  status: (names) => [`cnvm status --all --provider ${names}`],
  list: (names) => [`cnvm list --provider ${names}`],
};

const HELP: Record<string, CommandHelp> = {
  provision: {
    usage: 'cnvm provision --provider P --name NAME [flags]',
    summary: 'Create (or complete) a PMM server VM with its data volume. Re-running it continues an interrupted run.',
    flags: PROVISION_FLAGS,
  },
  upgrade: {
    usage: 'cnvm upgrade --provider P --name NAME [--stream S | --image X] [--yes]',
    summary: 'Move the data volume to a new VM on a new OS image; roll back if PMM does not come up.',
    flags: UPGRADE_FLAGS,
  },
  status: {
    usage: 'cnvm status --provider P --name NAME [--json] | cnvm status --all [--provider P[,P…]] [--json]',
    summary: "Show the VM, its generation, the PMM URL and the data volume (found from cnvm's record); --all: every cnvm VM on the providers, one line each.",
    flags: STATUS_FLAGS,
  },
  destroy: {
    usage: 'cnvm destroy --provider P --name NAME [--delete-data --yes]',
    summary: 'Remove the VM and its boot disks; the data volume and the record are kept unless --delete-data --yes.',
    flags: DESTROY_FLAGS,
  },
  'config show': {
    usage: 'cnvm config show --provider P [--name N] [--stage S] [--json]',
    summary: 'The merged settings (profile → stage → host → flags) and where each value came from; secrets masked.',
    flags: CONFIG_FLAGS,
  },
  list: {
    usage: 'cnvm list [--provider P[,P…]] [placement flags] [--json]',
    summary: "Every cnvm VM of the providers' scope: name, generation, state, image, PMM URL and data volume, and data volumes left without a VM. Without --provider: every provider with a profile in the config directory.",
    flags: LIST_FLAGS,
  },
  ssh: {
    usage: 'cnvm ssh NAME --provider P [flags] [-- COMMAND...]',
    summary: "ssh to the VM's current generation as 'core' at the address the provider reports (the system ssh, your keys and agent).",
    flags: SSH_FLAGS,
  },
  console: {
    usage: 'cnvm console NAME --provider P [--lines N] [--json]',
    summary: "What the VM printed on its serial console (a local hypervisor's console log file, or the cloud's console output).",
    flags: CONSOLE_FLAGS,
  },
  logs: {
    usage: 'cnvm logs NAME --provider P [--unit U] [--follow] | [--ignition]',
    summary: "The journal of a unit on the VM (pmm-server by default) over ssh, or Ignition's first-boot result from the console.",
    flags: LOGS_FLAGS,
  },
};

export const HELP_COMMANDS = Object.keys(HELP);

export function commandHelp(command: string): string {
  const h = HELP[command];
  if (!h) throw new Error(`no help for ${command}`);
  // Examples come from the provider modules, in registry order.
  const examples = [...PROVIDER_MODULES.flatMap((m) => m.examples[command] ?? []), ...(ACROSS_PROVIDERS[command]?.(PROVIDER_MODULES.map((m) => m.name).join(',')) ?? [])];
  return `${h.summary}\n\nUsage: ${h.usage}\n\n${flagHelp(h.flags)}\n\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`;
}
