// Which Compute API failures cnvm retries, and for how long: the schedule is pure (the jitter is given), the
// classification is checked on the errors the REST transport raises, and the adapter is run against injected faults.
import { describe, expect, it } from 'vitest';
import { backoffSchedule, isTransient, PRODUCTION_RETRY } from '../../src/provider/gcp/retry.js';
import { gcpAgainstFake } from '../support/gcp-harness.js';

// What the REST transport throws: the HTTP status as `code`, GCE's JSON error body as the message.
const apiError = (code: number, reason: string, message: string): Error & { code: number } =>
  Object.assign(new Error(JSON.stringify({ error: { code, message, errors: [{ reason, message }] } })), { code });

describe('GCE retry policy', () => {
  it('waits long enough in production to outlast a per-minute quota window, each wait capped', () => {
    for (const jitter of [0, 0.5, 0.999]) {
      const waits = backoffSchedule(PRODUCTION_RETRY, () => jitter);
      const total = waits.reduce((a, b) => a + b, 0);
      expect(total).toBeGreaterThanOrEqual(60_000);
      expect(Math.max(...waits)).toBeLessThanOrEqual(PRODUCTION_RETRY.capMs);
      expect(waits[1] as number).toBeGreaterThan((waits[0] as number) * 1.4);
    }
  });

  it('jitters: two runs with different random draws wait differently', () => {
    expect(backoffSchedule(PRODUCTION_RETRY, () => 0.1)).not.toEqual(backoffSchedule(PRODUCTION_RETRY, () => 0.9));
  });

  it.each([
    [apiError(429, 'rateLimitExceeded', 'Rate Limit Exceeded'), true],
    [apiError(500, 'backendError', 'Internal Error'), true],
    [apiError(502, 'badGateway', 'Bad Gateway'), true],
    [apiError(503, 'backendError', 'Backend Error'), true],
    [apiError(504, 'deadlineExceeded', 'Timeout'), true],
    [apiError(403, 'rateLimitExceeded', 'Rate Limit Exceeded'), true],
    [apiError(403, 'quotaExceeded', "Quota exceeded for quota metric 'Queries' and limit 'Queries per minute'"), true],
    [apiError(400, 'resourceNotReady', "The resource 'projects/p/zones/z/disks/d' is not ready"), true],
    [Object.assign(new Error('request to http://x failed, reason: socket hang up'), { code: 'ECONNRESET' }), true],
    [apiError(403, 'quotaExceeded', "Quota 'CPUS' exceeded. Limit: 24.0 in region europe-west1."), false],
    [apiError(403, 'forbidden', "Required 'compute.instances.create' permission"), false],
    [apiError(400, 'invalid', "Invalid value for field 'resource.name'"), false],
    [apiError(404, 'notFound', 'The resource was not found'), false],
  ])('%s → retry %s', (err, retry) => {
    expect(isTransient(err)).toBe(retry);
  });
});

describe('GCE adapter under injected faults', () => {
  it('gets through resourceNotReady, 503 and a reset on a mutation and its operation wait, applying it once', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      fake.injectFault({ match: /^POST \/disks$/, status: 400, reason: 'resourceNotReady', message: "The resource 'projects/cnvm-test/zones/europe-west1-b/disks/d1' is not ready", times: 1 });
      fake.injectFault({ match: /^POST \/disks$/, status: 0, reason: '', reset: true, times: 1 });
      fake.injectFault({ match: /\/operations\/.*\/wait$/, status: 503, reason: 'backendError', message: 'Backend Error', times: 2 });
      const vol = await provider.createVolume({ name: 'd1', sizeGiB: 10, deviceName: 'pmm-data' });
      expect(vol).toMatchObject({ name: 'd1', sizeGiB: 10 });
      expect(fake.faultsServed).toHaveLength(4);
      expect(fake.disks.size).toBe(1);
    } finally {
      await cleanup();
    }
  });

  it('gives up after its budget with the API message, typed', async () => {
    const { fake, provider, cleanup } = await gcpAgainstFake();
    try {
      fake.injectFault({ match: /^GET \/instances\/x$/, status: 503, reason: 'backendError', message: 'Backend Error', times: 1000 });
      await expect(provider.findVm('x')).rejects.toMatchObject({ kind: 'provider', message: 'instances.get x: Backend Error (backendError)' });
      expect(fake.faultsServed.length).toBeGreaterThan(3);
      expect(fake.faultsServed.length).toBeLessThan(1000);
    } finally {
      await cleanup();
    }
  });
});
