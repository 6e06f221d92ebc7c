// Vitest globalSetup: one temporary directory for the whole run, removed when it ends, under which run-cli.ts puts
// each test process's sandbox HOME. A forked worker is stopped without running its 'exit' handlers, so a directory
// it made for itself under /tmp would outlive the run.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let root: string | undefined;

export function setup(): void {
  root = mkdtempSync(join(tmpdir(), 'cnvm-test-run-'));
  process.env.CNVM_TEST_SANDBOX_ROOT = root;
}

export function teardown(): void {
  if (root) rmSync(root, { recursive: true, force: true });
}
