// cnvm's files on the hypervisor host that qemu must read, and nobody else: the store's private directories, the
// staged base images the boot overlays are backed by, and the Ignition config handed over through fw_cfg.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, constants, existsSync, mkdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { writeFileAtomic } from '../../util/atomic-write.js';
import { sweepTemporaries } from '../../util/temp-sweep.js';
import { ProviderError } from '../errors.js';
import { baseImagePath, ignitionPath, type LibvirtLayout } from './commands.js';
import type { QemuAccess } from './host.js';

export function storeFiles(layout: LibvirtLayout, run: (argv: string[]) => Promise<string>) {
  /**
   * A directory of the store that qemu must traverse but nobody else may read: 0710 root:<qemu's group> (0700 when
   * qemu runs as the caller), created or corrected on every use.
   */
  function privateDir(path: string, qemu: QemuAccess): void {
    if (!existsSync(layout.storageDir)) {
      // Parents (/var/lib/cnvm) stay traversable for qemu; the store itself is made private once, when cnvm creates
      // it (a directory the user made and named with --storage-dir is left as they set it).
      mkdirSync(dirname(layout.storageDir), { recursive: true, mode: 0o755 });
      mkdirSync(layout.storageDir, { mode: 0o700 });
      if (qemu.owner) chownSync(layout.storageDir, qemu.owner.uid, qemu.owner.gid);
      chmodSync(layout.storageDir, qemu.dirMode);
    }
    mkdirSync(path, { recursive: true, mode: 0o700 });
    if (qemu.owner) chownSync(path, qemu.owner.uid, qemu.owner.gid);
    chmodSync(path, qemu.dirMode);
  }

  /**
   * The overlay's backing file, kept under <storageDir>/images/: qemu (another user under qemu:///system) cannot
   * read a cache in root's 0700 home, and a cleared cache must not break existing boot disks. Always a copy of its
   * own (a reflink where the file system offers one, else a full copy, once per source file): libvirt chowns every
   * image of a running VM's backing chain to qemu's user, and a hard link would hand the user's own file over with
   * it. The name carries the source file's identity, so a changed source never reuses a stale copy.
   */
  async function stageBaseImage(source: string, qemu: QemuAccess): Promise<string> {
    const imagesDir = join(layout.storageDir, 'images');
    if (dirname(source) === imagesDir) return source;
    const st = statSync(source);
    const id = createHash('sha256').update(`${realpathSync(source)}\0${st.dev}\0${st.ino}\0${st.size}\0${st.mtimeMs}`).digest('hex').slice(0, 12);
    const target = baseImagePath(layout, id, source);
    const staged = statSync(target, { throwIfNoEntry: false });
    // A hard link left by an older cnvm shares the user's inode: replace it with a copy (same bytes, same path).
    if (staged && !(staged.dev === st.dev && staged.ino === st.ino)) return target;
    privateDir(imagesDir, qemu);
    const tmp = join(imagesDir, `.${basename(target)}.${process.pid}.tmp`);
    try {
      await copyFile(source, tmp, constants.COPYFILE_FICLONE);
      if (qemu.owner) chownSync(tmp, qemu.owner.uid, qemu.owner.gid);
      chmodSync(tmp, qemu.fileMode);
      renameSync(tmp, target);
    } catch (err) {
      rmSync(tmp, { force: true });
      throw new ProviderError('failed', `cannot copy base image ${source} into ${imagesDir}: ${(err as Error).message}`, { cause: err });
    }
    return target;
  }

  /** The fw_cfg file qemu reads at start, replaced atomically; SELinux hosts need qemu's label on the new inode. */
  async function writeIgnition(name: string, ignition: string, mode: number, owner: { uid: number; gid: number } | undefined): Promise<void> {
    // A copy an interrupted write left (it may hold the admin password) goes at this VM's next write or scrub.
    sweepTemporaries(dirname(ignitionPath(layout, name)));
    writeFileAtomic(ignitionPath(layout, name), ignition, mode, owner);
    // On an SELinux host qemu may read only files labelled for it (Fedora CoreOS docs: svirt_home_t).
    if (existsSync('/sys/fs/selinux/enforce')) await run(['chcon', '--type', 'svirt_home_t', ignitionPath(layout, name)]);
  }

  return { privateDir, stageBaseImage, writeIgnition };
}
