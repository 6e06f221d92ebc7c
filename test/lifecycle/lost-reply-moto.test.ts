// The lost-reply matrix (lost-reply-matrix.ts) on the EC2 adapter against moto's EC2 server, through a proxy that
// loses one reply per run. The fakes' runs are in lost-reply.test.ts.
import { describe } from 'vitest';
import { useMoto } from '../support/aws-harness.js';
import { ec2Harness } from '../support/cloud-peers.js';
import { lostReplyMatrix } from './lost-reply-matrix.js';

useMoto();

describe('lost replies (aws on moto)', () => {
  lostReplyMatrix('aws-moto', () => ec2Harness('moto'));
});
