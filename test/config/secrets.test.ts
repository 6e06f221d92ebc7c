// Which setting names count as secrets for `cnvm config show`, and the masked copy of resolved settings.
import { describe, expect, it } from 'vitest';
import { mergeLayers } from '../../src/config/layers.js';
import { isSecretName, MASK, maskSecrets } from '../../src/config/secrets.js';

describe('secret-looking settings', () => {
  it('matches password, token, secret and key words, not public keys or ordinary settings', () => {
    for (const name of ['PMM_POSTGRES_PASSWORD', 'PMM_CLICKHOUSE_PASSWD', 'GITHUB_TOKEN', 'api-token', 'clientSecret', 'PMM_API_KEY', 'aws_secret_access_key', 'private_key']) {
      expect(isSecretName(name), name).toBe(true);
    }
    for (const name of ['ssh_keys', 'memory', 'PMM_ENABLE_TELEMETRY', 'keyboard', 'monkey', 'PMM_POSTGRES_ADDR', 'passthrough']) {
      expect(isSecretName(name), name).toBe(false);
    }
  });

  it('masks the values at any depth and keeps origins, public ssh keys and the original object', () => {
    const resolved = mergeLayers([
      { source: 'hosts/pmm1.yaml', values: { ssh_keys: ['ssh-ed25519 AAAA ops'], pmm: { env: { PMM_POSTGRES_PASSWORD: 'hunter2-really', PMM_DEBUG: '1' } } } },
    ]);
    const shown = maskSecrets(resolved);
    expect(shown.settings).toEqual({ ssh_keys: ['ssh-ed25519 AAAA ops'], pmm: { env: { PMM_POSTGRES_PASSWORD: MASK, PMM_DEBUG: '1' } } });
    expect(shown.origins['pmm.env.PMM_POSTGRES_PASSWORD']).toBe('hosts/pmm1.yaml');
    expect((resolved.settings.pmm as { env: Record<string, string> }).env.PMM_POSTGRES_PASSWORD).toBe('hunter2-really');
  });
});
