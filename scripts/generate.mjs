#!/usr/bin/env node
// Regenerates everything under src/generated/ from the JSON Schemas in schema/: precompiled validators (so no
// schema is compiled at run time) and TypeScript types. Run by `npm run build` and `npm run gen`.
import { main as genButane } from './gen-butane.mjs';
import { main as genIgnition } from './gen-ignition.mjs';

await genIgnition();
await genButane();
