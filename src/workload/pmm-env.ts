// PMM 3 server settings passed as container environment. The known names are PMM 3's documented ones
// (docs.percona.com/percona-monitoring-and-management/3/…/docker/env_var.html) checked against what pmm-managed-init
// itself accepts (percona/pmm managed/utils/envvars/parser.go). pmm-managed-init refuses to start on a value it
// cannot parse (a boolean or a Go duration), so those are errors here; a name it does not know is only a warning,
// as it is for PMM, and most likely a typo or a PMM 2 name (DISABLE_UPDATES → PMM_ENABLE_UPDATES=false).

import { PmmOptionsError } from './errors.js';

/** Parsed by PMM as booleans (Go strconv.ParseBool after lower-casing). */
const BOOLEANS = new Set([
  'PMM_ENABLE_UPDATES',
  'PMM_ENABLE_TELEMETRY',
  'PMM_ENABLE_ALERTING',
  'PMM_ENABLE_BACKUP_MANAGEMENT',
  'PMM_ENABLE_AZURE_DISCOVER',
  'PMM_ENABLE_ACCESS_CONTROL',
  'PMM_ENABLE_NOMAD',
  'PMM_ENABLE_VM_CACHE',
  'PMM_DEBUG',
  'PMM_TRACE',
  'PMM_DISABLE_BUILTIN_CLICKHOUSE',
  'PMM_DISABLE_BUILTIN_POSTGRES',
]);
/** Parsed by PMM as Go durations (time.ParseDuration: h, m, s, ms, …; no `d`). */
const RESOLUTIONS = new Set(['PMM_METRICS_RESOLUTION', 'PMM_METRICS_RESOLUTION_HR', 'PMM_METRICS_RESOLUTION_MR', 'PMM_METRICS_RESOLUTION_LR']);
const OTHER = new Set([
  'PMM_DATA_RETENTION',
  'PMM_PUBLIC_ADDRESS',
  'PMM_INTERFACE_TO_BIND',
  'PMM_VM_URL',
  'PMM_WATCHTOWER_HOST',
  'PMM_WATCHTOWER_TOKEN',
  'HTTP_PROXY',
  'HTTPS_PROXY',
  'NO_PROXY',
]);
/** Families documented (or passed through by PMM) by prefix: external ClickHouse/PostgreSQL, HA, Grafana, VictoriaMetrics. */
const KNOWN_PREFIXES = ['PMM_CLICKHOUSE_', 'PMM_POSTGRES_', 'PMM_HA_', 'GF_', 'VM_', 'VMAGENT_'];
const PMM2_NAMES: Record<string, string> = {
  DISABLE_UPDATES: 'PMM_ENABLE_UPDATES=false',
  DISABLE_TELEMETRY: 'PMM_ENABLE_TELEMETRY=false',
  DISABLE_ALERTING: 'PMM_ENABLE_ALERTING=false',
  DISABLE_BACKUP_MANAGEMENT: 'PMM_ENABLE_BACKUP_MANAGEMENT=false',
  DATA_RETENTION: 'PMM_DATA_RETENTION',
  METRICS_RESOLUTION: 'PMM_METRICS_RESOLUTION',
  PUBLIC_ADDRESS: 'PMM_PUBLIC_ADDRESS',
  ENABLE_ALERTING: 'PMM_ENABLE_ALERTING',
  ENABLE_BACKUP_MANAGEMENT: 'PMM_ENABLE_BACKUP_MANAGEMENT',
  ENABLE_AZURE_DISCOVER: 'PMM_ENABLE_AZURE_DISCOVER',
  ENABLE_RBAC: 'PMM_ENABLE_ACCESS_CONTROL',
  PMM_ENABLE_RBAC: 'PMM_ENABLE_ACCESS_CONTROL',
  PMM_DISABLE_UPDATES: 'PMM_ENABLE_UPDATES=false',
  PMM_DISABLE_TELEMETRY: 'PMM_ENABLE_TELEMETRY=false',
};

const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
const UNIT_SECONDS: Record<string, number> = { ns: 1e-9, us: 1e-6, µs: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };

/** Seconds in a Go duration string, or undefined when Go would not parse it. */
export function goDurationSeconds(text: string): number | undefined {
  if (!GO_DURATION.test(text)) return undefined;
  let total = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/g)) total += Number(m[1]) * (UNIT_SECONDS[m[2] ?? 's'] ?? 1);
  return total;
}

/**
 * Checks settings before they reach the VM. Throws PmmOptionsError for what would stop PMM from starting (or could not
 * be written to an env file); returns warnings for names PMM 3 does not document.
 */
export function validatePmmEnv(env: Record<string, string>): string[] {
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new PmmOptionsError(`invalid environment variable name ${JSON.stringify(name)}`);
    if (/[\n\r\0]/.test(value)) throw new PmmOptionsError(`environment variable ${name} must be on one line`);
    const pmm2 = PMM2_NAMES[name];
    if (pmm2) {
      warnings.push(`${name} is not a PMM 3 setting (PMM would ignore it); use ${pmm2}`);
      continue;
    }
    if (BOOLEANS.has(name)) {
      if (!/^(1|0|t|f|true|false)$/i.test(value)) throw new PmmOptionsError(`${name}=${value}: PMM expects a boolean (true or false) and would not start`);
    } else if (RESOLUTIONS.has(name)) {
      const s = goDurationSeconds(value);
      if (s === undefined || s < 1 || !Number.isInteger(s)) throw new PmmOptionsError(`${name}=${value}: PMM expects a duration of whole seconds, at least 1s (e.g. 5s, 1m)`);
    } else if (name === 'PMM_DATA_RETENTION') {
      const s = goDurationSeconds(value);
      if (s === undefined || s <= 0 || s % 86_400 !== 0) {
        throw new PmmOptionsError(`PMM_DATA_RETENTION=${value}: PMM expects a Go duration in whole days, written in hours (e.g. 720h for 30 days; "30d" is not accepted)`);
      }
    } else if (!OTHER.has(name) && !KNOWN_PREFIXES.some((p) => name.startsWith(p))) {
      warnings.push(`unknown PMM setting ${name} (not in PMM 3's documented environment variables)`);
    }
  }
  return warnings;
}

/** KEY=value lines, as podman's --env-file reads them (no quoting: the value is taken literally). */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = [
    '# PMM server settings (podman --env-file: KEY=value, no quotes). Edit, then: sudo systemctl restart pmm-server',
    '# Reference: https://docs.percona.com/percona-monitoring-and-management/3/install-pmm/install-pmm-server/baremetal/docker/env_var.html',
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
  ];
  return `${lines.join('\n')}\n`;
}
