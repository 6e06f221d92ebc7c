// Atomic writes under a file-size limit (a short write) and the temporaries an interrupted writer leaves.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/conformance.js';
import { sweepTemporaries } from '../../src/util/temp-sweep.js';

const dir = mkdtempSync(join(tmpdir(), 'cnvm-sweep-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('temporary files of interrupted atomic writes', () => {
  it('a short write (file-size limit) fails the write: the old file stays whole and no temporary is left', () => {
    const target = join(dir, 'config.ign');
    writeFileSync(target, 'old');
    const script = `import { writeFileAtomic } from ${JSON.stringify(join(REPO_ROOT, 'dist/util/atomic-write.js'))}; writeFileAtomic(${JSON.stringify(target)}, 'p'.repeat(1 << 20), 0o644);`;
    // ulimit -f counts 512-byte blocks in sh: 64 KiB may be written, the rest fails with EFBIG.
    const r = spawnSync('sh', ['-c', `ulimit -f 128; exec "${process.execPath}" --input-type=module -e "$0"`, script], { encoding: 'utf8' });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cannot write');
    expect(readFileSync(target, 'utf8')).toBe('old');
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it("the sweep removes a temporary whose writer is gone (kill -9) and keeps a live writer's", () => {
    const gone = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout;
    const dead = `.config.ign.${gone}.lx3k9.tmp`;
    const live = `.record.json.${process.pid}.abc.tmp`;
    writeFileSync(join(dir, dead), 'partial secret', { mode: 0o600 });
    writeFileSync(join(dir, live), '{}');
    expect(sweepTemporaries(dir)).toEqual([dead]);
    expect(readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([live]);
  });
});
