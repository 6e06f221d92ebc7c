// Application Default Credentials (ADC), as Google's libraries find them: GOOGLE_APPLICATION_CREDENTIALS, else the
// file `gcloud auth application-default login` writes (~/.config/gcloud/application_default_credentials.json, or
// under CLOUDSDK_CONFIG). cnvm reads the file itself for the project (so a plan needs no SDK) and turns "no
// credentials" into one clear provider error instead of the client's unhandled rejection. Nothing here imports the
// SDK; the metadata server is never probed (cnvm runs on an operator's machine, and tests must stay on loopback).
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ProviderError } from '../errors.js';

export const CREDENTIALS_ADVICE =
  'give Google credentials one of these ways: run `gcloud auth application-default login` (writes the ADC file ' +
  '~/.config/gcloud/application_default_credentials.json), or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file';

/** Where the ADC file is, whether or not it exists. */
export function adcPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.GOOGLE_APPLICATION_CREDENTIALS) return env.GOOGLE_APPLICATION_CREDENTIALS;
  const config = env.CLOUDSDK_CONFIG ?? join(env.HOME ?? homedir(), '.config', 'gcloud');
  return join(config, 'application_default_credentials.json');
}

/** The ADC file's JSON, undefined when there is none; an unreadable or malformed file is an error naming it. */
export function readAdc(env: NodeJS.ProcessEnv = process.env): Record<string, unknown> | undefined {
  const path = adcPath(env);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && !env.GOOGLE_APPLICATION_CREDENTIALS) return undefined;
    const via = env.GOOGLE_APPLICATION_CREDENTIALS ? 'GOOGLE_APPLICATION_CREDENTIALS names ' : '';
    throw new ProviderError('invalid', `${via}${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}; ${CREDENTIALS_ADVICE}`);
  }
  try {
    const json = JSON.parse(text) as unknown;
    if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('not a JSON object');
    return json as Record<string, unknown>;
  } catch (err) {
    throw new ProviderError('invalid', `${path}: not a credentials file (${(err as Error).message}); ${CREDENTIALS_ADVICE}`);
  }
}

/**
 * The project when --project is absent: GOOGLE_CLOUD_PROJECT (or the older GCLOUD_PROJECT), else the ADC file's
 * project_id (service account keys) or quota_project_id (user credentials from gcloud).
 */
export function projectFromEnvironment(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const fromEnv = env.GOOGLE_CLOUD_PROJECT ?? env.GCLOUD_PROJECT;
  if (fromEnv) return fromEnv;
  const adc = readAdc(env);
  const id = adc?.project_id ?? adc?.quota_project_id;
  return typeof id === 'string' && id ? id : undefined;
}

/** The error for a client that found no credentials: what was looked at, and how to provide them. */
export function noCredentialsError(cause?: unknown): ProviderError {
  return new ProviderError('permission', `no Google credentials found (looked at ${adcPath()}); ${CREDENTIALS_ADVICE}`, { cause });
}
