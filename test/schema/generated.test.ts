// The committed JSON Schemas, types and precompiled validators are exactly what scripts/generate.mjs makes from
// schema/model.mjs: editing the model without `npm run gen` fails here.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error plain ESM script without type declarations
import { main } from '../../scripts/generate.mjs';

const root = join(import.meta.dirname, '..', '..');

describe('generated schema artefacts', () => {
  it('are up to date with schema/model.mjs', async () => {
    const outputs = (await main({ dryRun: true })) as Map<string, string>;
    expect(outputs.size).toBe(23 * 3 + 3); // per spec: schema, validator, types; plus specs.ts, types/index.ts, ignition-releases.ts
    for (const [relative, text] of outputs) {
      expect(readFileSync(join(root, relative), 'utf8'), `${relative} is stale: run npm run gen`).toBe(text);
    }
  });
});
