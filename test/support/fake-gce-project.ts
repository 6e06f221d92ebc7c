// The fake Compute API's project resource: projects.get (its common instance metadata with a fingerprint) and
// projects.setCommonInstanceMetadata, refused with 412 conditionNotMet unless the fingerprint sent is the current
// one. The check and the new fingerprint happen together when the request is accepted, as GCE's optimistic locking
// does, so of two writers that read the same fingerprint exactly one succeeds.
import * as rules from './fake-gce-rules.js';

export interface ProjectState {
  project: string;
  metadata: { items: { key: string; value: string }[]; fingerprint: string };
}

interface Request {
  method: string;
  /** The path after `/compute/v1/projects/<project>`. */
  path: string;
  body: Record<string, unknown>;
}

interface Reply {
  send(status: number, json: unknown): void;
  fail(status: number, reason: string, message: string): void;
  decoded<T>(type: string, body: Record<string, unknown>, word: string): T | undefined;
  operation(check: () => string | undefined, apply: () => void): void;
}

let counter = 0;

export function handleProject(s: ProjectState, r: Request, reply: Reply): boolean {
  if (r.method === 'GET' && r.path === '') {
    reply.send(200, { kind: 'compute#project', name: s.project, commonInstanceMetadata: { kind: 'compute#metadata', ...s.metadata } });
    return true;
  }
  if (r.method === 'POST' && r.path === '/setCommonInstanceMetadata') {
    const m = reply.decoded<{ fingerprint?: string; items?: { key: string; value: string }[] }>('Metadata', r.body, 'metadata');
    if (!m) return true;
    if (m.fingerprint !== s.metadata.fingerprint) {
      reply.fail(412, 'conditionNotMet', 'Supplied fingerprint does not match current metadata fingerprint.');
      return true;
    }
    const bad = rules.checkMetadata(m.items);
    if (bad) {
      reply.fail(400, bad.reason, bad.message);
      return true;
    }
    s.metadata = { items: m.items ?? [], fingerprint: `project-fp-${++counter}` };
    reply.operation(
      () => undefined,
      () => undefined,
    );
    return true;
  }
  return false;
}
