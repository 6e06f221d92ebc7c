// The upgrade fault matrix's rollback half on the EC2 adapter against moto's EC2 server: a rolled-back upgrade
// crashed before and after each of its provider calls, then re-run. The upgrade half and the provision matrix are
// upgrade-aws-moto.test.ts (two files, so the halves run in parallel).
import { describe } from 'vitest';
import { useMoto } from '../support/aws-harness.js';
import { awsMatrixHarness } from './aws-matrix-harness.js';
import { upgradeFaultMatrix } from './upgrade-matrix.js';

useMoto();

describe('upgrade fault matrix, rollback crashes (aws on moto)', () => {
  upgradeFaultMatrix('aws-moto', { makeHarness: () => awsMatrixHarness('moto'), timeout: 300_000, crashes: ['rollback'] });
});
