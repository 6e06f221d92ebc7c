// PMM 3 server settings passed as container environment (docs: install-pmm-server … docker/env_var). Known names
// are taken from PMM 3's documentation; anything else under PMM_ is most likely a typo or a PMM 2 name
// (DISABLE_UPDATES → PMM_ENABLE_UPDATES=false), so it is reported, not silently passed on.
const KNOWN = new Set([
  'PMM_DATA_RETENTION',
  'PMM_METRICS_RESOLUTION',
  'PMM_METRICS_RESOLUTION_HR',
  'PMM_METRICS_RESOLUTION_MR',
  'PMM_METRICS_RESOLUTION_LR',
  'PMM_ENABLE_UPDATES',
  'PMM_ENABLE_TELEMETRY',
  'PMM_ENABLE_ALERTING',
  'PMM_ENABLE_BACKUP_MANAGEMENT',
  'PMM_ENABLE_AZURE_DISCOVER',
  'PMM_ENABLE_ACCESS_CONTROL',
  'PMM_ENABLE_NOMAD',
  'PMM_DEBUG',
  'PMM_TRACE',
  'PMM_PUBLIC_ADDRESS',
  'PMM_INTERFACE_TO_BIND',
  'PMM_WATCHTOWER_HOST',
  'PMM_WATCHTOWER_TOKEN',
  'PMM_DISABLE_BUILTIN_CLICKHOUSE',
  'PMM_DISABLE_BUILTIN_POSTGRES',
]);
/** Families documented by prefix: ClickHouse and PostgreSQL connections, and all of Grafana's settings. */
const KNOWN_PREFIXES = ['PMM_CLICKHOUSE_', 'PMM_POSTGRES_', 'GF_'];
const PMM2_NAMES: Record<string, string> = {
  DISABLE_UPDATES: 'PMM_ENABLE_UPDATES=false',
  DISABLE_TELEMETRY: 'PMM_ENABLE_TELEMETRY=false',
  DATA_RETENTION: 'PMM_DATA_RETENTION',
  PUBLIC_ADDRESS: 'PMM_PUBLIC_ADDRESS',
  ENABLE_ALERTING: 'PMM_ENABLE_ALERTING',
  ENABLE_BACKUP_MANAGEMENT: 'PMM_ENABLE_BACKUP_MANAGEMENT',
};
const BOOLEANS = /^PMM_(ENABLE_|DEBUG$|TRACE$|DISABLE_)/;

export function validatePmmEnv(env: Record<string, string>): string[] {
  const warnings: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid environment variable name ${JSON.stringify(name)}`);
    if (/[\n\r\0]/.test(value)) throw new Error(`environment variable ${name} must be on one line`);
    const pmm2 = PMM2_NAMES[name];
    if (pmm2) warnings.push(`${name} is a PMM 2 setting; PMM 3 uses ${pmm2}`);
    else if (!KNOWN.has(name) && !KNOWN_PREFIXES.some((p) => name.startsWith(p))) warnings.push(`unknown PMM setting ${name}`);
    if (BOOLEANS.test(name) && !/^(true|false|1|0)$/i.test(value)) warnings.push(`${name}=${value} is not a boolean`);
    if (name === 'PMM_DATA_RETENTION' && !/^\d+(h|d)$/.test(value)) warnings.push(`PMM_DATA_RETENTION=${value} should be a duration like 720h or 30d`);
  }
  return warnings;
}

/** KEY=value lines, as podman's --env-file reads them (no quoting: the value is taken literally). */
export function renderEnvFile(env: Record<string, string>): string {
  const lines = ['# PMM server settings (podman --env-file). Edit, then: systemctl restart pmm-server', ...Object.entries(env).map(([k, v]) => `${k}=${v}`)];
  return `${lines.join('\n')}\n`;
}
