// The lost-reply matrix (lost-reply-matrix.ts) on the EC2 adapter against the project's EC2 fake, the GCE adapter
// against the Compute fake and the DigitalOcean adapter against its API v2 fake (moto is in lost-reply-moto.test.ts,
// a file of its own so the two run in parallel); the adapters talk through a proxy that loses one reply per run.
import { describe } from 'vitest';
import { ec2Harness, gceHarness } from '../support/cloud-peers.js';
import { doPeerHarness } from '../support/do-peer.js';
import { lostReplyMatrix } from './lost-reply-matrix.js';

describe('lost replies (aws on fake)', () => {
  lostReplyMatrix('aws-fake', () => ec2Harness('fake'));
});

describe('lost replies (gcp)', () => {
  lostReplyMatrix('gcp', gceHarness);
});

describe('lost replies (digitalocean)', () => {
  lostReplyMatrix('digitalocean', doPeerHarness);
});
