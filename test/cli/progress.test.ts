// The progress display in its three forms (terminal, plain lines, NDJSON) and the step watch that feeds it:
// what the health gate polls, and no `health: done` when the gate was skipped.
import { clearLine, cursorTo, moveCursor } from 'node:readline';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress, progressMode, type ProgressMode } from '../../src/cli/progress.js';
import { readyzUrl, watchRemovals, watchSteps } from '../../src/cli/watch.js';
import { createFakeProvider } from '../support/fake-provider.js';

const TIMESTAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ /;

function capture(tty = false): { stream: PassThrough & { isTTY?: boolean; columns?: number }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean; columns?: number };
  // What a tty.WriteStream adds, drawn with node's own escape-sequence writers (the real terminal run is in
  // cli-progress.test.ts, under a pseudo-terminal).
  if (tty) {
    Object.assign(stream, {
      isTTY: true,
      columns: 100,
      cursorTo: (x: number, y?: number) => cursorTo(stream, x, y),
      moveCursor: (dx: number, dy: number) => moveCursor(stream, dx, dy),
      clearLine: (dir: -1 | 0 | 1) => clearLine(stream, dir),
    });
  }
  let out = '';
  stream.on('data', (d: Buffer) => (out += d.toString('utf8')));
  return { stream, text: () => out };
}

async function progressOn(mode: ProgressMode, tty = false, heartbeatMs?: number) {
  const { stream, text } = capture(tty);
  const progress = await createProgress({ command: 'upgrade', mode, stream, ...(heartbeatMs ? { heartbeatMs } : {}) });
  return { progress, text };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('progress modes', () => {
  it('is chosen by where stderr goes: NDJSON with --json, a live line on a terminal, plain lines otherwise', () => {
    expect(progressMode(true, { isTTY: true }, {})).toBe('ndjson');
    expect(progressMode(false, { isTTY: true, columns: 80 }, { TERM: 'xterm' })).toBe('tty');
    expect(progressMode(false, { isTTY: false }, {})).toBe('plain');
    expect(progressMode(false, { isTTY: true, columns: 80 }, { TERM: 'dumb' })).toBe('plain');
    expect(progressMode(false, { isTTY: true, columns: 80 }, { CI: 'true' })).toBe('plain');
    expect(progressMode(false, { isTTY: true, columns: 0 }, { TERM: 'xterm' })).toBe('plain');
  });

  it('plain: one timestamped line per event and per download step; a "still waiting" line while a step runs', async () => {
    const { progress, text } = await progressOn('plain', false, 25);
    progress.event({ step: 'image', status: 'start', detail: 'newest Fedora CoreOS stable' });
    progress.update('downloaded 10%');
    progress.event({ step: 'image', status: 'done', detail: '41.20241027.3.0' });
    progress.event({ step: 'health', status: 'start' });
    progress.update('polling https://127.0.0.1:4443/v1/server/readyz (attempt 3)', { quiet: true });
    await sleep(120);
    progress.event({ step: 'health', status: 'done' });
    progress.stop();
    const lines = text().trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(TIMESTAMPED);
    const bodies = lines.map((l) => l.replace(TIMESTAMPED, ''));
    expect(bodies[0]).toBe('image: start (newest Fedora CoreOS stable)');
    expect(bodies[1]).toBe('image: downloaded 10%');
    expect(bodies[2]).toMatch(/^image: done \(41\.20241027\.3\.0\) \[[\d.]+ s\]$/);
    expect(bodies[3]).toBe('health: start');
    // quiet news is not its own line; it rides on the heartbeat
    expect(bodies.filter((b) => b.startsWith('health: polling'))).toEqual([]);
    expect(bodies).toContainEqual(expect.stringMatching(/^health: still waiting, [\d.]+ s; polling https:\/\/127\.0\.0\.1:4443\/v1\/server\/readyz \(attempt 3\)$/));
    expect(bodies.at(-1)).toMatch(/^health: done \[[\d.]+ s\]$/);
  });

  it('plain: the heartbeat stops with its step', async () => {
    const { progress, text } = await progressOn('plain', false, 20);
    progress.event({ step: 'stop-old', status: 'start' });
    progress.event({ step: 'stop-old', status: 'done' });
    await sleep(80);
    progress.stop();
    expect(text()).not.toContain('still waiting');
  });

  it('ndjson: one JSON object per line, with the step, status, time and elapsed milliseconds', async () => {
    const { progress, text } = await progressOn('ndjson');
    progress.event({ step: 'start-new', status: 'start', detail: 'pmm1-g2' });
    progress.update('polling https://10.0.0.5/v1/server/readyz (attempt 1)', { quiet: true });
    progress.event({ step: 'start-new', status: 'done' });
    progress.note('warning: something');
    progress.stop();
    const events = text().trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events.map((e) => [e.type, e.command, e.step, e.status])).toEqual([
      ['progress', 'upgrade', 'start-new', 'start'],
      ['progress', 'upgrade', 'start-new', 'update'],
      ['progress', 'upgrade', 'start-new', 'done'],
      ['progress', 'upgrade', null, 'note'],
    ]);
    for (const e of events) expect(Date.parse(e.at as string)).not.toBeNaN();
    expect(typeof events[2]?.elapsedMs).toBe('number');
    expect(events[0]?.elapsedMs).toBeUndefined();
  });

  it('tty: a spinner line that is redrawn in place, updated with news, and ends in a result line', async () => {
    const { progress, text } = await progressOn('tty', true);
    expect(progress.mode).toBe('tty');
    progress.event({ step: 'health', status: 'start', detail: 'waiting for PMM' });
    progress.update('polling https://10.0.0.5/v1/server/readyz (attempt 2)', { quiet: true });
    await sleep(250); // the spinner animates every 80 ms: at least one redraw in place
    progress.note('warning: above the live line');
    progress.event({ step: 'health', status: 'done' });
    progress.stop();
    const out = text();
    // eslint-disable-next-line no-control-regex -- the cursor-hiding and line-clearing sequences are what is checked
    expect(out).toMatch(/\x1b\[\?25l/);
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\x1b\[(2K|G|1G|\d*K)/);
    expect(out).toContain('health: running (polling https://10.0.0.5/v1/server/readyz (attempt 2))');
    expect(out).toContain('warning: above the live line\n');
    expect(out).toMatch(/health: done [\d.]+ s/);
    // the cursor comes back
    // eslint-disable-next-line no-control-regex
    expect(out).toMatch(/\x1b\[\?25h/);
  });
});

describe('step watch', () => {
  it('shows what the health gate polls: the readiness URL of the address the provider reports', async () => {
    expect(readyzUrl('10.0.0.5')).toBe('https://10.0.0.5/v1/server/readyz');
    expect(readyzUrl('127.0.0.1:4443')).toBe('https://127.0.0.1:4443/v1/server/readyz');
    const provider = createFakeProvider();
    const vol = await provider.createVolume({ name: 'p-data', sizeGiB: 1, deviceName: 'pmm-data' });
    await provider.createVm({ name: 'p', image: { id: 'img' }, ignition: '{}', dataVolumeId: vol.id });
    const { progress, text } = await progressOn('ndjson');
    const watch = watchSteps(provider, progress, { healthTimeoutSec: 60 });
    watch.onEvent({ step: 'health', status: 'start' });
    await watch.provider.findVm('p');
    await watch.provider.findVm('p');
    watch.onEvent({ step: 'health', status: 'done' });
    await watch.provider.findVm('p'); // after the gate: no poll
    const events = text().trimEnd().split('\n').map((l) => JSON.parse(l) as { status: string; detail?: string });
    expect(events[0]?.detail).toBe("waiting for PMM's /v1/server/readyz to answer 200, up to 60 s");
    expect(events.filter((e) => e.status === 'update').map((e) => e.detail)).toEqual([
      expect.stringMatching(/attempt 1\)$/),
      expect.stringMatching(/attempt 2\)$/),
    ]);
  });

  it('--skip-health-check: the gate reads `skip`, never `health: done`', async () => {
    const { progress, text } = await progressOn('plain');
    const watch = watchSteps(createFakeProvider(), progress, { skipHealthCheck: true });
    watch.onEvent({ step: 'start-new', status: 'start' });
    watch.onEvent({ step: 'start-new', status: 'done' });
    watch.onEvent({ step: 'health', status: 'start' });
    watch.onEvent({ step: 'health', status: 'done' });
    progress.stop();
    const bodies = text().trimEnd().split('\n').map((l) => l.replace(TIMESTAMPED, ''));
    expect(bodies).not.toContainEqual(expect.stringMatching(/^health: (start|done)/));
    expect(bodies.at(-1)).toBe('health: skip (not checked: --skip-health-check)');
  });

  it('destroy: each removal is a step, with its failure', async () => {
    const provider = createFakeProvider();
    await provider.createVm({ name: 'gone', image: { id: 'img' }, ignition: '{}' });
    const { progress, text } = await progressOn('plain');
    const watched = watchRemovals(provider, progress);
    await watched.destroyVm('gone');
    const vol = await provider.createVolume({ name: 'held-data', sizeGiB: 1, deviceName: 'pmm-data' });
    await provider.createVm({ name: 'holder', image: { id: 'img' }, ignition: '{}', dataVolumeId: vol.id });
    await expect(watched.deleteVolume(vol.id)).rejects.toThrow();
    progress.stop();
    const bodies = text().trimEnd().split('\n').map((l) => l.replace(TIMESTAMPED, ''));
    expect(bodies[0]).toBe('remove-vm: start (gone)');
    expect(bodies[1]).toMatch(/^remove-vm: done \(gone\) \[[\d.]+ s\]$/);
    expect(bodies[3]).toMatch(/^delete-volume: failed \(.*attached to holder.*\)/);
    expect(await provider.findVolume('held-data')).toBeDefined();
  });
});
