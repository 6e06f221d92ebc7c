// The upgrade and provision fault matrices on the EC2 adapter against the project's stateful EC2 fake (moto's run
// is upgrade-aws-moto.test.ts, a file of its own so the two run in parallel); harness in aws-matrix-harness.ts.
import { describe } from 'vitest';
import { awsMatrixHarness } from './aws-matrix-harness.js';
import { provisionFaultMatrix } from './provision-matrix.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

describe('upgrade fault matrix (aws on fake)', () => {
  upgradeFaultMatrix('aws-fake', { makeHarness: () => awsMatrixHarness('fake'), timeout: 300_000 });
});

describe('provision fault matrix (aws on fake)', () => {
  provisionFaultMatrix('aws-fake', () => awsMatrixHarness('fake'), 300_000);
});
