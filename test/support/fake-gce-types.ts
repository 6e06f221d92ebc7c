// The fake Compute API's state and fault types (fake-gce.ts serves them).
import type { FakeAddress } from './fake-gce-network.js';

export interface Disk {
  name: string;
  zone: string;
  sizeGb: string;
  labels: Record<string, string>;
  users: string[];
  bytes: Buffer;
}

export interface AttachedDisk {
  boot: boolean;
  source: string;
  deviceName: string;
  autoDelete: boolean;
  mode: string;
}

export interface AccessConfig {
  name: string;
  type: string;
  natIP?: string;
  /** Ephemeral IPs are given up on stop and a new one is taken on start; a static address stays. */
  ephemeral: boolean;
}

export interface Instance {
  id: string;
  name: string;
  zone: string;
  status: string;
  labels: Record<string, string>;
  tags: { items: string[] };
  disks: AttachedDisk[];
  metadata: { items: { key: string; value: string }[]; fingerprint: string };
  networkInterfaces: { name: string; network: string; subnetwork?: string; networkIP: string; accessConfigs: AccessConfig[] }[];
}

export interface Operation {
  name: string;
  status: 'PENDING' | 'RUNNING' | 'DONE';
  waits: number;
  apply: () => void;
  error?: { errors: { code: string; message: string }[] };
}

/** A failure answered instead of the request (`times` times), matched on `METHOD path`. */
export interface RequestFault {
  match: RegExp;
  status: number;
  reason: string;
  message?: string;
  /** Close the connection without an answer (a reset) instead. */
  reset?: boolean;
  times: number;
}

/** An operation that ends in this error (`times` times), matched on `METHOD path` of the request that started it. */
export interface OperationFault {
  match: RegExp;
  code: string;
  message: string;
  times: number;
}

export interface FakeGce {
  port: number;
  project: string;
  zone: string;
  disks: Map<string, Disk>;
  instances: Map<string, Instance>;
  firewalls: Map<string, Record<string, unknown>>;
  addresses: Map<string, FakeAddress>;
  /** What each instance's serial port 1 printed (a fake cannot boot: tests write it). */
  serialOutput: Map<string, string>;
  /** Requests seen, `METHOD path` with the zone's prefix cut (for asserting what an operation sent). */
  log: string[];
  /** Requests answered by an injected fault. */
  faultsServed: string[];
  injectFault(fault: RequestFault): void;
  failOperation(fault: OperationFault): void;
  close(): Promise<void>;
}

export interface FakeGceOptions {
  /** Custom-mode VPCs and their subnetworks (in the zone's region); `default` (auto mode) always exists. */
  networks?: Record<string, string[]>;
}
