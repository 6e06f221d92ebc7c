// Progress for the slow steps (image download, VM creation, guest power-off, the health gate, cloud waits), in
// one of three forms chosen by where stderr goes:
// - `tty`: one live line with a spinner and the elapsed time (ora), replaced by a ✔/ℹ/✖ line when the step ends;
// - `plain` (pipes, CI, TERM=dumb): one timestamped line per event, plus a "still waiting" line every 30 s, so a log
//   shows the run is alive and what it waits for;
// - `ndjson` (--json): one JSON object per line on stderr (docs/json-output.md), stdout keeping the one envelope.
// ora is imported only when a terminal shows it, so piped and --json runs load nothing extra.
import type { Writable } from 'node:stream';

export type ProgressMode = 'tty' | 'plain' | 'ndjson';

/** One step's transition, as the lifecycle reports it (ProvisionEvent, UpgradeEvent) or the CLI itself does. */
export interface ProgressEvent {
  step: string;
  status: 'start' | 'done' | 'skip' | 'failed';
  detail?: string;
}

export interface Progress {
  readonly mode: ProgressMode;
  event(e: ProgressEvent): void;
  /**
   * News about the running step (download percentage, what a wait polls). `quiet` news only refreshes the live
   * line and the next "still waiting" line in plain mode, for things that change every few seconds.
   */
  update(detail: string, options?: { quiet?: boolean }): void;
  /** A line that is not about a step (a warning): printed above the live line. */
  note(line: string): void;
  /** Ends the live line (also on Ctrl-C, so the terminal gets its cursor back). */
  stop(): void;
}

export interface ProgressOptions {
  command: string;
  mode: ProgressMode;
  stream?: Writable;
  /** Plain mode: how often a running step prints a "still waiting" line. */
  heartbeatMs?: number;
  now?: () => Date;
}

/**
 * Where stderr goes decides the form; --json always gets NDJSON. A terminal that reports no width (a pseudo-terminal
 * nobody sized) gets plain lines: a live line cannot be redrawn without knowing where it wraps.
 */
export function progressMode(json: boolean, stream: { isTTY?: boolean; columns?: number } = process.stderr, env: NodeJS.ProcessEnv = process.env): ProgressMode {
  if (json) return 'ndjson';
  return stream.isTTY === true && (stream.columns ?? 0) > 0 && env.TERM !== 'dumb' && !env.CI ? 'tty' : 'plain';
}

const active = new Set<Progress>();

/** Ctrl-C: end every live line before the "how to continue" message. */
export function stopAllProgress(): void {
  for (const p of active) p.stop();
}

const seconds = (ms: number): string => (ms < 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 1000)} s`);
const describe = (e: { step: string; status?: string; detail?: string }, status = e.status): string => `${e.step}: ${status}${e.detail ? ` (${e.detail})` : ''}`;

export async function createProgress(options: ProgressOptions): Promise<Progress> {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => new Date());
  const progress = options.mode === 'tty' ? await ttyProgress(stream, now) : options.mode === 'ndjson' ? ndjsonProgress(options.command, stream, now) : plainProgress(stream, now, options.heartbeatMs ?? 30_000);
  active.add(progress);
  const stop = progress.stop.bind(progress);
  return { ...progress, mode: progress.mode, stop: () => (active.delete(progress), stop()) };
}

interface Running {
  step: string;
  detail?: string;
  since: number;
  news?: string;
}

function plainProgress(stream: Writable, now: () => Date, heartbeatMs: number): Progress {
  const line = (text: string): void => void stream.write(`${now().toISOString().replace(/\.\d+Z$/, 'Z')} ${text}\n`);
  let running: Running | undefined;
  let timer: NodeJS.Timeout | undefined;
  const clear = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  return {
    mode: 'plain',
    event(e) {
      const elapsed = running?.step === e.step && e.status !== 'start' ? `, ${seconds(now().getTime() - running.since)}` : '';
      line(`${describe(e)}${elapsed ? ` [${elapsed.slice(2)}]` : ''}`);
      if (e.status === 'start') {
        clear();
        running = { step: e.step, ...(e.detail ? { detail: e.detail } : {}), since: now().getTime() };
        timer = setInterval(() => {
          if (!running) return;
          line(`${running.step}: still waiting, ${seconds(now().getTime() - running.since)}${running.news ? `; ${running.news}` : ''}`);
        }, heartbeatMs);
        timer.unref();
      } else if (running?.step === e.step) {
        clear();
        running = undefined;
      }
    },
    update(detail, opts) {
      if (running) running.news = detail;
      if (!opts?.quiet) line(running ? `${running.step}: ${detail}` : detail);
    },
    note: (text) => line(text),
    stop: clear,
  };
}

function ndjsonProgress(command: string, stream: Writable, now: () => Date): Progress {
  let running: Running | undefined;
  const emit = (fields: Record<string, unknown>): void => void stream.write(`${JSON.stringify({ type: 'progress', command, at: now().toISOString(), ...fields })}\n`);
  return {
    mode: 'ndjson',
    event(e) {
      const elapsedMs = running?.step === e.step && e.status !== 'start' ? now().getTime() - running.since : undefined;
      emit({ step: e.step, status: e.status, ...(e.detail ? { detail: e.detail } : {}), ...(elapsedMs !== undefined ? { elapsedMs } : {}) });
      if (e.status === 'start') running = { step: e.step, since: now().getTime() };
      else if (running?.step === e.step) running = undefined;
    },
    update(detail) {
      emit({ step: running?.step ?? null, status: 'update', detail, ...(running ? { elapsedMs: now().getTime() - running.since } : {}) });
    },
    note: (text) => emit({ step: running?.step ?? null, status: 'note', detail: text }),
    stop: () => undefined,
  };
}

async function ttyProgress(stream: Writable, now: () => Date): Promise<Progress> {
  const { default: ora } = await import('ora');
  // discardStdin off: Ctrl-C must reach cnvm's own handler, which says how to continue.
  const spinner = ora({ stream, isEnabled: true, discardStdin: false, hideCursor: true });
  let running: Running | undefined;
  let ticker: NodeJS.Timeout | undefined;
  const text = (r: Running): string => `${describe({ step: r.step, detail: r.news ?? r.detail }, 'running')} ${seconds(now().getTime() - r.since)}`;
  const end = (): void => {
    if (ticker) clearInterval(ticker);
    ticker = undefined;
    running = undefined;
  };
  return {
    mode: 'tty',
    event(e) {
      if (e.status === 'start') {
        end();
        running = { step: e.step, ...(e.detail ? { detail: e.detail } : {}), since: now().getTime() };
        spinner.start(text(running));
        ticker = setInterval(() => running && (spinner.text = text(running)), 1000);
        ticker.unref();
        return;
      }
      const took = running?.step === e.step ? ` ${seconds(now().getTime() - running.since)}` : '';
      const final = `${describe(e)}${took}`;
      if (e.status === 'done') spinner.succeed(final);
      else if (e.status === 'skip') spinner.info(final);
      else spinner.fail(final);
      if (running?.step === e.step) end();
    },
    update(detail) {
      if (!running) {
        spinner.info(detail);
        return;
      }
      running.news = detail;
      spinner.text = text(running);
    },
    note(line) {
      // Printed above the live line, which is drawn again below it.
      const wasSpinning = spinner.isSpinning;
      if (wasSpinning) spinner.clear();
      stream.write(`${line}\n`);
      if (wasSpinning) spinner.render();
    },
    stop() {
      end();
      if (spinner.isSpinning) spinner.stop();
    },
  };
}
