#!/usr/bin/env node
// The `cnvm` executable: runs the command line and sets the exit code.
import { run } from './main.js';

process.exitCode = await run(process.argv.slice(2));
