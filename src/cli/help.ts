// Each command's help: what it does, its usage line, only its own flags under group headings, and examples.
// `cnvm COMMAND --help` and `cnvm help COMMAND` print the same text.
import { flagHelp, type FlagSpec } from './args.js';
import { CONFIG_FLAGS, CONSOLE_FLAGS, DESTROY_FLAGS, LIST_FLAGS, LOGS_FLAGS, PROVISION_FLAGS, SSH_FLAGS, STATUS_FLAGS, UPGRADE_FLAGS } from './lifecycle-flags.js';

interface CommandHelp {
  usage: string;
  summary: string;
  flags: FlagSpec[];
  examples: string[];
}

const HELP: Record<string, CommandHelp> = {
  provision: {
    usage: 'cnvm provision --provider P --name NAME [flags]',
    summary: 'Create (or complete) a PMM server VM with its data volume. Re-running it continues an interrupted run.',
    flags: PROVISION_FLAGS,
    examples: [
      'cnvm provision --provider libvirt --name pmm1 --ssh-key ~/.ssh/id_ed25519.pub',
      'cnvm provision --provider aws --region eu-west-1 --name pmm1 --data-size 100G --dry-run',
      'cnvm provision --provider gcp --project my-proj --zone europe-west1-b --name pmm1 --json',
    ],
  },
  upgrade: {
    usage: 'cnvm upgrade --provider P --name NAME [--stream S | --image X] [--yes]',
    summary: 'Move the data volume to a new VM on a new OS image; roll back if PMM does not come up.',
    flags: UPGRADE_FLAGS,
    examples: ['cnvm upgrade --provider libvirt --name pmm1 --yes', 'cnvm upgrade --provider aws --name pmm1 --image ami-0123456789abcdef0 --dry-run', 'cnvm upgrade --provider libvirt --name pmm1 --pmm-tag 3.1.0 --yes'],
  },
  status: {
    usage: 'cnvm status --provider P --name NAME [--json] | cnvm status --all [--provider P[,P…]] [--json]',
    summary: "Show the VM, its generation, the PMM URL and the data volume (found from cnvm's record); --all: every cnvm VM on the providers, one line each.",
    flags: STATUS_FLAGS,
    examples: ['cnvm status --provider libvirt --name pmm1', 'cnvm status --provider aws --name pmm1 --json', 'cnvm status --all --provider aws,gcp'],
  },
  destroy: {
    usage: 'cnvm destroy --provider P --name NAME [--delete-data --yes]',
    summary: 'Remove the VM and its boot disks; the data volume and the record are kept unless --delete-data --yes.',
    flags: DESTROY_FLAGS,
    examples: ['cnvm destroy --provider libvirt --name pmm1', 'cnvm destroy --provider gcp --name pmm1 --delete-data --yes --dry-run'],
  },
  'config show': {
    usage: 'cnvm config show --provider P [--name N] [--stage S] [--json]',
    summary: 'The merged settings (profile → stage → host → flags) and where each value came from; secrets masked.',
    flags: CONFIG_FLAGS,
    examples: ['cnvm config show --provider libvirt --name pmm1', 'cnvm config show --provider aws --stage prod --json'],
  },
  list: {
    usage: 'cnvm list [--provider P[,P…]] [placement flags] [--json]',
    summary: "Every cnvm VM of the providers' scope: name, generation, state, image, PMM URL and data volume, and data volumes left without a VM. Without --provider: every provider with a profile in the config directory.",
    flags: LIST_FLAGS,
    examples: ['cnvm list --provider libvirt', 'cnvm list --provider aws --region eu-west-1 --json', 'cnvm list --provider aws,gcp'],
  },
  ssh: {
    usage: 'cnvm ssh NAME --provider P [flags] [-- COMMAND...]',
    summary: "ssh to the VM's current generation as 'core' at the address the provider reports (the system ssh, your keys and agent).",
    flags: SSH_FLAGS,
    examples: ['cnvm ssh pmm1 --provider libvirt', 'cnvm ssh pmm1 --provider aws -- sudo podman ps', 'cnvm ssh pmm1 --provider gcp --dry-run'],
  },
  console: {
    usage: 'cnvm console NAME --provider P [--lines N] [--json]',
    summary: "What the VM printed on its serial console (libvirt: its console log file; clouds: the provider's console output).",
    flags: CONSOLE_FLAGS,
    examples: ['cnvm console pmm1 --provider libvirt --lines 50', 'cnvm console pmm1 --provider aws --json'],
  },
  logs: {
    usage: 'cnvm logs NAME --provider P [--unit U] [--follow] | [--ignition]',
    summary: "The journal of a unit on the VM (pmm-server by default) over ssh, or Ignition's first-boot result from the console.",
    flags: LOGS_FLAGS,
    examples: ['cnvm logs pmm1 --provider libvirt', 'cnvm logs pmm1 --provider libvirt --unit pmm-data-prepare -n 50', 'cnvm logs pmm1 --provider aws --ignition'],
  },
};

export const HELP_COMMANDS = Object.keys(HELP);

export function commandHelp(command: string): string {
  const h = HELP[command];
  if (!h) throw new Error(`no help for ${command}`);
  return `${h.summary}\n\nUsage: ${h.usage}\n\n${flagHelp(h.flags)}\n\nExamples:\n${h.examples.map((e) => `  ${e}`).join('\n')}\n`;
}
