// Where the DigitalOcean API token comes from, as doctl and the Terraform provider find it: DIGITALOCEAN_TOKEN (or
// DIGITALOCEAN_ACCESS_TOKEN), else a file named by DIGITALOCEAN_TOKEN_FILE, else the `access-token` of doctl's
// config (~/.config/doctl/config.yaml, or under XDG_CONFIG_HOME). The token is a secret: it goes in the
// Authorization header and nowhere else — never in an error, a log line, a plan or a record.
// CNVM_DO_ENDPOINT sends the API calls elsewhere (the tests' loopback fake); the default is DigitalOcean's API.
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PermissionError, ProviderError } from '../errors.js';

export const DEFAULT_ENDPOINT = 'https://api.digitalocean.com';

export const TOKEN_ADVICE =
  'give a DigitalOcean API token one of these ways: set DIGITALOCEAN_TOKEN, set DIGITALOCEAN_TOKEN_FILE to a file ' +
  'holding it (readable only by you), or run `doctl auth init` (writes access-token to ~/.config/doctl/config.yaml)';

export function doctlConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME ?? join(env.HOME ?? homedir(), '.config');
  return join(base, 'doctl', 'config.yaml');
}

/** doctl's config is YAML; cnvm needs one top-level scalar of it, so it reads that line rather than the file. */
function doctlToken(text: string): string | undefined {
  const line = text.split(/\r?\n/).find((l) => /^access-token\s*:/.test(l));
  if (!line) return undefined;
  const value = line.slice(line.indexOf(':') + 1).trim().replace(/^(["'])(.*)\1$/, '$2');
  return value || undefined;
}

function readTokenFile(path: string, via: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message;
    throw new ProviderError('invalid', `${via}${path}: ${why}; ${TOKEN_ADVICE}`);
  }
  const token = text.trim();
  if (!token) throw new ProviderError('invalid', `${via}${path} is empty; ${TOKEN_ADVICE}`);
  return token;
}

/** The API token; a PermissionError (exit 4) saying where cnvm looked when there is none. */
export function resolveToken(env: NodeJS.ProcessEnv = process.env): string {
  const direct = env.DIGITALOCEAN_TOKEN ?? env.DIGITALOCEAN_ACCESS_TOKEN;
  if (direct && direct.trim()) return direct.trim();
  if (env.DIGITALOCEAN_TOKEN_FILE) return readTokenFile(env.DIGITALOCEAN_TOKEN_FILE, 'DIGITALOCEAN_TOKEN_FILE names ');
  const config = doctlConfigPath(env);
  let text: string | undefined;
  try {
    text = readFileSync(config, 'utf8');
  } catch {
    text = undefined;
  }
  const fromDoctl = text === undefined ? undefined : doctlToken(text);
  if (fromDoctl) return fromDoctl;
  throw new PermissionError(`no DigitalOcean API token found (looked at DIGITALOCEAN_TOKEN, DIGITALOCEAN_TOKEN_FILE and ${config}); ${TOKEN_ADVICE}`);
}

export function resolveEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  const raw = env.CNVM_DO_ENDPOINT ?? DEFAULT_ENDPOINT;
  try {
    const url = new URL(raw);
    return url.origin + url.pathname.replace(/\/+$/, '');
  } catch {
    throw new ProviderError('invalid', `CNVM_DO_ENDPOINT ${JSON.stringify(raw)} is not a URL`);
  }
}
