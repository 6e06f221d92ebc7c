// Cloud metadata limits: GCE takes at most 256 KiB per metadata value, EC2 16 KiB of user data. A config above the
// limit is wrapped in a small one that carries it as a gzip-compressed data: URL in `ignition.config.replace`
// (Ignition does not gunzip the raw user data itself, but does decompress a replaced config). Still too big: an
// error now, before anything is created.
import { gzipSync } from 'node:zlib';
import { ProviderError } from './errors.js';

export class IgnitionTooLargeError extends ProviderError {
  constructor(message: string) {
    super('invalid', message);
    this.name = 'IgnitionTooLargeError';
  }
}

/** Returns the config to hand to the cloud: as given if it fits, else the compressed wrapper. */
export function fitIgnition(json: string, limitBytes: number, where: string): { text: string; wrapped: boolean } {
  if (Buffer.byteLength(json) <= limitBytes) return { text: json, wrapped: false };
  const version = (JSON.parse(json) as { ignition?: { version?: string } }).ignition?.version ?? '3.3.0';
  const source = `data:;base64,${gzipSync(json, { level: 9 }).toString('base64')}`;
  const wrapper = JSON.stringify({ ignition: { version, config: { replace: { source, compression: 'gzip' } } } });
  if (Buffer.byteLength(wrapper) > limitBytes) {
    throw new IgnitionTooLargeError(
      `the Ignition config is ${Buffer.byteLength(json)} bytes (${Buffer.byteLength(wrapper)} compressed) and ${where} takes at most ${limitBytes}; shrink it (e.g. fetch large files from a URL with a hash)`,
    );
  }
  return { text: wrapper, wrapped: true };
}
