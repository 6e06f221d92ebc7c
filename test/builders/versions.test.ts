// Typed builders per spec version: `fcos('1.4.0', …)` accepts only fcos 1.4's fields. The @ts-expect-error lines
// are checked by `npm run typecheck` (which includes the tests); the runtime checks translate what was built.
import { describe, expect, it } from 'vitest';
import { fcos, file, inline, type FcosConfig, type FcosVersion } from '../../src/builders/index.js';
import { translate } from '../../src/translate/index.js';

describe('fcos(version, body)', () => {
  it('types the body by the version and stamps variant and version', async () => {
    const old = fcos('1.4.0', { storage: { files: [{ path: '/etc/motd', contents: { inline: 'hi\n' } }] } });
    expect(old).toEqual({ variant: 'fcos', version: '1.4.0', storage: { files: [{ path: '/etc/motd', contents: { inline: 'hi\n' } }] } });
    // @ts-expect-error grub arrived in fcos 1.5.0
    fcos('1.4.0', { grub: { users: [{ name: 'root', password_hash: 'x' }] } });
    // @ts-expect-error quadlets are fcos 1.8.0-experimental only
    fcos('1.7.0', { systemd: { quadlets: [{ name: 'a.container' }] } });
    const exp = fcos('1.8.0-experimental', { systemd: { quadlets: [{ name: 'a.container', contents: '[Container]\n' }] } });
    const result = await translate(exp, { strict: true });
    expect(result.entries).toEqual([]);
    expect((result.config?.ignition as { version: string }).version).toBe('3.7.0-experimental');
  });

  it('keeps the older fcos(body, version) form, defaulting to 1.4.0', () => {
    const config: FcosConfig = fcos({ storage: { files: [file('/etc/a', { contents: inline('a') })] } });
    expect(config.version).toBe('1.4.0');
    const versions: FcosVersion[] = ['1.0.0', '1.7.0', '1.8.0-experimental'];
    expect(versions).toHaveLength(3);
  });
});
