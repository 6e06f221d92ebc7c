// Stopping an EC2 instance, bounded. A graceful StopInstances asks the guest to shut down (ACPI); a guest that
// ignores it (Fedora CoreOS still in the initramfs, where Ignition waits for a data volume that is not attached yet)
// stays `stopping` until EC2 powers it off at a time EC2 does not document. So: an instance that has never booted
// with its data volume is stopped with `Force` at once (nothing on it can be lost: Ignition wrote nothing), and
// any other gets `stopGraceSec` to shut down before StopInstances is sent again with `Force` (the API reference:
// "Forces the instance to stop… The instance does not have an opportunity to flush file system caches"; EC2
// accepts it for an instance already stopping). The forced stop is reported to the caller (the upgrade journals it).
import type { Ec2Session } from './client.js';
import { TimeoutError } from '../errors.js';
import type { StopNotice } from '../types.js';

/** How long a guest gets to shut down before the stop is forced (GCE documents 90 s for its own; EC2 none). */
export const DEFAULT_STOP_GRACE_SEC = 120;

export interface StopTarget {
  id: string;
  name: string;
  state: string | undefined;
}

export async function stopInstance(session: Ec2Session, target: StopTarget, how: { force?: boolean; notice?: StopNotice; graceSec?: number }): Promise<void> {
  const { load, send, wait } = session;
  const { ec2 } = await load();
  const ids = { InstanceIds: [target.id] };
  const stop = (force: boolean) => send(`StopInstances ${target.name}${force ? ' (Force)' : ''}`, new ec2.StopInstancesCommand({ ...ids, ...(force ? { Force: true } : {}) }));
  const stopped = (maxSec?: number) => wait(`instance ${target.name} stopped`, ec2.waitUntilInstanceStopped as never, ids, maxSec);
  if (target.state === 'pending') await wait(`instance ${target.name} running`, ec2.waitUntilInstanceRunning as never, ids);
  if (how.force) {
    how.notice?.onForced?.(`StopInstances Force: ${target.name} has never booted with its data volume (Ignition waits for it in the initramfs, which ignores a graceful stop)`);
    await stop(true);
    return stopped();
  }
  if (target.state !== 'stopping') await stop(false);
  const grace = how.graceSec ?? DEFAULT_STOP_GRACE_SEC;
  try {
    return await stopped(grace);
  } catch (err) {
    if (!(err instanceof TimeoutError)) throw err;
  }
  how.notice?.onForced?.(`StopInstances Force: ${target.name} had not stopped ${grace} s after a graceful StopInstances`);
  await stop(true);
  await stopped();
}
