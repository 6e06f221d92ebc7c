// libvirt: local or remote hypervisors through virsh; images are local qcow2 files.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { CnvmError } from '../../errors.js';
import { int, str, type ProviderModule } from '../module.js';
import { libvirtDisk, type LibvirtDataDisk } from './disk.js';

export const libvirtModule: ProviderModule<LibvirtDataDisk> = {
  name: 'libvirt',
  summary: 'libvirt/qemu (virsh, qemu-img)',
  settings: [
    { key: 'connect', flag: 'connect', type: 'string', location: true, help: 'libvirt URI (default qemu:///system; qemu:///session, qemu+ssh://host/system)' },
    { key: 'storage_dir', flag: 'storage-dir', type: 'string', location: true, path: true, help: 'where cnvm keeps volumes and VM files (default /var/lib/cnvm/libvirt)' },
    { key: 'network', flag: 'network', type: 'string', help: "libvirt network for new VMs (default 'default'; 'none' for no NIC; 'user' for qemu user-mode networking with PMM forwarded to 127.0.0.1)" },
    { key: 'forward_port', flag: 'forward-port', type: 'int', help: "with --network user: the 127.0.0.1 port forwarded to PMM's 443, kept across upgrades (default: a free one)" },
    { key: 'virt_type', flag: 'virt-type', type: 'string', help: 'kvm or qemu (TCG); default: what libvirt offers' },
    { key: 'shutdown_timeout', flag: 'shutdown-timeout', type: 'int', transient: true, help: 'seconds to wait for a clean guest power-off before forcing it (default 60)' },
  ],
  disk: libvirtDisk,
  exportTargets: [{ id: 'terraform-libvirt', format: 'terraform', title: 'a Terraform file', fileName: (vm) => `${vm}.tf.json`, load: async () => ({ render: (await import('./export-terraform.js')).terraformLibvirt }) }],
  examples: {
    provision: ['cnvm provision --provider libvirt --name pmm1 --ssh-key ~/.ssh/id_ed25519.pub'],
    upgrade: ['cnvm upgrade --provider libvirt --name pmm1 --yes', 'cnvm upgrade --provider libvirt --name pmm1 --pmm-tag 3.1.0 --yes'],
    status: ['cnvm status --provider libvirt --name pmm1'],
    destroy: ['cnvm destroy --provider libvirt --name pmm1'],
    'config show': ['cnvm config show --provider libvirt --name pmm1'],
    list: ['cnvm list --provider libvirt'],
    ssh: ['cnvm ssh pmm1 --provider libvirt'],
    console: ['cnvm console pmm1 --provider libvirt --lines 50'],
    logs: ['cnvm logs pmm1 --provider libvirt', 'cnvm logs pmm1 --provider libvirt --unit pmm-data-prepare -n 50'],
  },
  imageHelp: 'a local Fedora CoreOS qcow2 file',
  imagePlaceholder: (stream) => `<FCOS ${stream} qcow2, downloaded and verified>`,
  imageFromFlag(value) {
    const path = resolve(value);
    if (!existsSync(path)) throw new CnvmError('usage', `--image ${value}: no such file (libvirt boots ${this.imageHelp})`);
    return { id: path };
  },
  async resolveImage(stream, _settings, log) {
    const { ensureQemuImage } = await import('../../image/qemu-image.js');
    let last = 0;
    const image = await ensureQemuImage({
      stream,
      onProgress: (p) => {
        if (p.phase !== 'download') return log(`image: ${p.phase}…`);
        const pct = p.total ? Math.floor((100 * p.bytes) / p.total) : undefined;
        if (pct !== undefined && pct >= last + 10) log(`image: downloaded ${(last = pct)}%`);
      },
    });
    log(`image: ${image.path}${image.downloaded ? '' : ' (cached)'}`);
    return { id: image.path, version: image.release };
  },
  async create(s) {
    const { createLibvirtProvider } = await import('./adapter.js');
    const network = str(s, 'network');
    const shutdownTimeoutSec = int(s, 'shutdown_timeout');
    const virtType = str(s, 'virt_type');
    if (virtType !== undefined && virtType !== 'kvm' && virtType !== 'qemu') throw new CnvmError('usage', `--virt-type ${virtType}: use kvm or qemu`);
    const forwardPort = int(s, 'forward_port');
    return createLibvirtProvider({
      ...(str(s, 'connect') ? { uri: str(s, 'connect') as string } : {}),
      ...(str(s, 'storage_dir') ? { storageDir: str(s, 'storage_dir') as string } : {}),
      ...(network ? { network: network === 'none' ? null : network } : {}),
      ...(shutdownTimeoutSec !== undefined ? { shutdownTimeoutSec } : {}),
      ...(virtType ? { virtType } : {}),
      ...(forwardPort !== undefined ? { forwardPort } : {}),
    });
  },
};
