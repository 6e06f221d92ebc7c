// State of the fake DigitalOcean API v2 (fake-do.ts), as its reference describes the resources.

export interface FakeDroplet {
  id: number;
  name: string;
  status: 'new' | 'active' | 'off' | 'archive';
  region: string;
  size: string;
  image: number | string;
  tags: string[];
  volume_ids: string[];
  user_data: string;
  vpc_uuid: string;
  publicIp: string;
  privateIp: string;
  /** An action in progress on it (DigitalOcean refuses a second one: "pending event"). */
  lockedBy?: number;
}

export interface FakeVolume {
  id: string;
  name: string;
  region: string;
  size_gigabytes: number;
  description: string;
  droplet_ids: number[];
  tags: string[];
  filesystem_type: string;
  /** The first bytes of the volume, as a guest would have written them. */
  bytes: Buffer;
}

export interface FakeReservedIp {
  ip: string;
  region: string;
  dropletId?: number;
  locked: boolean;
}

export interface FakeFirewall {
  id: string;
  name: string;
  inbound_rules: unknown[];
  outbound_rules: unknown[];
  droplet_ids: number[];
  tags: string[];
}

export interface FakeImage {
  id: number;
  name: string;
  status: 'NEW' | 'available' | 'pending' | 'deleted';
  regions: string[];
  url?: string;
  polls: number;
}

export interface FakeAction {
  id: number;
  type: string;
  status: 'in-progress' | 'completed' | 'errored';
  resource_type: 'droplet' | 'volume' | 'floating_ip' | 'reserved_ip';
  resource_id: number | string;
  region_slug: string;
  /** Polls left before it completes. */
  pollsLeft: number;
  /** What it does when it completes; a string is the reason it errors instead. */
  finish: () => string | void;
}

/** A fault for requests whose `METHOD /path` (no query) matches. */
export interface RequestFault {
  match: RegExp;
  /** An HTTP status to answer instead (429 with ratelimit headers, 500, 503, …). */
  status?: number;
  /** Drop the connection without an answer, before handling the request. */
  reset?: boolean;
  /** Handle the request (its effect lands), then drop the connection: the reply is lost. */
  lost?: boolean;
  times: number;
}

export interface FakeDoOptions {
  token?: string;
  regions?: string[];
  sizes?: string[];
  /** Custom images present from the start, by id. */
  images?: { id: number; name: string }[];
  /** How many polls of GET /v2/actions/{id} an action stays in progress (default 1). */
  actionPolls?: number;
  /** Requests allowed per window before 429 (default: unlimited); DigitalOcean's is 250 a minute. */
  rateLimit?: { limit: number; windowMs: number };
  /** A ACPI shutdown the guest ignores: the shutdown action errors (default false). */
  shutdownErrors?: boolean;
  /**
   * Public and reserved IPs on loopback (127.0.1.N droplets, 127.0.2.N reserved) instead of documentation ranges, so
   * a health gate run by the CLI polls a loopback address nothing listens on (it fails, the upgrade rolls back).
   */
  loopbackAddresses?: boolean;
}

export interface FakeDo {
  port: number;
  url: string;
  token: string;
  droplets: Map<number, FakeDroplet>;
  volumes: Map<string, FakeVolume>;
  reservedIps: Map<string, FakeReservedIp>;
  firewalls: Map<string, FakeFirewall>;
  tags: Set<string>;
  images: Map<number, FakeImage>;
  actions: Map<number, FakeAction>;
  /** `METHOD /path` of every request handled (faults included). */
  log: string[];
  /** Bodies of every request with one: method, path, JSON body. */
  bodies: { method: string; path: string; body: unknown }[];
  /** What each served fault was: `429 POST /v2/volumes`, `reset GET …`, `lost POST …`. */
  faultsServed: string[];
  injectFault(fault: RequestFault): void;
  /** The droplet named `name`, if any. */
  droplet(name: string): FakeDroplet | undefined;
  volume(name: string): FakeVolume | undefined;
  close(): Promise<void>;
}
