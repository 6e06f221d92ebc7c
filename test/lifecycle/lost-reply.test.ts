// The lost-reply matrix (lost-reply-matrix.ts) on the EC2 adapter against moto and the project's EC2 fake, the GCE
// adapter against the Compute fake and the DigitalOcean adapter against its API v2 fake; the adapters talk through a
// proxy that loses one reply per run.
import { describe } from 'vitest';
import { EC2_PEERS, useMoto } from '../support/aws-harness.js';
import { ec2Harness, gceHarness } from '../support/cloud-peers.js';
import { doPeerHarness } from '../support/do-peer.js';
import { lostReplyMatrix } from './lost-reply-matrix.js';

useMoto();

for (const kind of EC2_PEERS) {
  describe(`lost replies (aws on ${kind})`, () => {
    lostReplyMatrix(`aws-${kind}`, () => ec2Harness(kind));
  });
}

describe('lost replies (gcp)', () => {
  lostReplyMatrix('gcp', gceHarness);
});

describe('lost replies (digitalocean)', () => {
  lostReplyMatrix('digitalocean', doPeerHarness);
});
