// The registry and the provider folders agree: every folder under src/provider/ is one registered provider, and
// each provider declares its disk naming and export targets in its own folder.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { exportTargets, PROVIDER_MODULES, providerModule, providerNames } from '../../src/provider/registry.js';

const PROVIDER_DIR = fileURLToPath(new URL('../../src/provider', import.meta.url));

describe('provider registry', () => {
  it('has one module per provider folder, and a folder per registered provider', () => {
    const folders = readdirSync(PROVIDER_DIR).filter((e) => statSync(join(PROVIDER_DIR, e)).isDirectory());
    expect([...folders].sort()).toEqual([...providerNames()].sort());
    for (const name of folders) {
      for (const file of ['module.ts', 'adapter.ts', 'disk.ts']) expect(existsSync(join(PROVIDER_DIR, name, file)), `${name}/${file}`).toBe(true);
    }
  });

  it('names each provider once, with export target ids unique across providers', () => {
    expect(new Set(providerNames()).size).toBe(PROVIDER_MODULES.length);
    const ids = exportTargets().map((t) => t.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const name of providerNames()) expect(providerModule(name).name).toBe(name);
  });

  it('refuses an unknown provider with a usage error naming the registered ones', () => {
    expect(() => providerModule('nope')).toThrow(`--provider: unknown provider "nope" (${providerNames().join(', ')})`);
  });
});
