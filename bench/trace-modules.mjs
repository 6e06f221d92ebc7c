// `node --import ./bench/trace-modules.mjs …` records every module URL the process resolves into the file named by
// CNVM_TRACE_MODULES, so the bench and tests can prove that rendering never loads a cloud SDK.
import { register } from 'node:module';
import { MessageChannel } from 'node:worker_threads';
import { appendFileSync } from 'node:fs';

const out = process.env.CNVM_TRACE_MODULES;
if (out) {
  const { port1, port2 } = new MessageChannel();
  port1.on('message', (url) => appendFileSync(out, `${url}\n`));
  port1.unref();
  register('./trace-hooks.mjs', { parentURL: import.meta.url, data: { port: port2 }, transferList: [port2] });
}
