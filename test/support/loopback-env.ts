// The environment every test process and every CLI a test spawns runs with: nothing may leave the machine. The
// operator-address lookup goes to a closed loopback port unless a test starts its own echo server, and neither
// cloud SDK probes an instance metadata service. Read by the vitest configs and test/support/run-cli.ts.
export const LOOPBACK_ENV = {
  CNVM_PUBLIC_IP_URL: 'http://127.0.0.1:9/',
  // FCOS stream metadata (image look-ups): a closed loopback port unless a test serves its own.
  CNVM_STREAM_BASE_URL: 'http://127.0.0.1:9/streams',
  AWS_EC2_METADATA_DISABLED: 'true',
  METADATA_SERVER_DETECTION: 'none',
} as const;
