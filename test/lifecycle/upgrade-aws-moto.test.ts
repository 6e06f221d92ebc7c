// The upgrade and provision fault matrices on the EC2 adapter against moto's EC2 server (the fake's are in
// upgrade-aws.test.ts): the real client, harness in aws-matrix-harness.ts. The rollback's crash matrix is
// upgrade-aws-moto-rollback.test.ts, a file of its own so the two halves run in parallel.
import { describe } from 'vitest';
import { useMoto } from '../support/aws-harness.js';
import { awsMatrixHarness } from './aws-matrix-harness.js';
import { provisionFaultMatrix } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

useMoto();

describe('upgrade fault matrix (aws on moto)', () => {
  upgradeFaultMatrix('aws-moto', { makeHarness: () => awsMatrixHarness('moto'), timeout: 300_000, crashes: ['upgrade'] });
});

describe('provision fault matrix (aws on moto)', () => {
  provisionFaultMatrix('aws-moto', () => awsMatrixHarness('moto'), 300_000);
});
