// The version-skew table and its verdicts: releases named by FCOS builds (from stream metadata, AMI/GCE names or
// --image-release) and by Ignition versions, against the spec → Ignition release table of the schema model.
import { describe, expect, it } from 'vitest';
import { IGNITION_RELEASES } from '../../src/generated/ignition-releases.js';
import { assertImageReads, checkSpecSupport, imageRelease, newestButaneFor, parseImageRelease, PROMOTION_DAYS, releaseFromText } from '../../src/image/ignition-support.js';
import { IGNITION_SPECS } from '../../src/generated/specs.js';

describe('image releases', () => {
  it('reads FCOS builds from versions, AMI names and GCE image names, and Ignition versions', () => {
    expect(releaseFromText('42.20250901.3.0')).toEqual({ kind: 'fcos', version: '42.20250901.3.0', built: '2025-09-01' });
    expect(releaseFromText('fedora-coreos-41.20241027.3.0-x86_64')).toMatchObject({ version: '41.20241027.3.0' });
    expect(releaseFromText('fedora-coreos-40-20240416-3-1-gcp-x86-64')).toMatchObject({ version: '40.20240416.3.1', built: '2024-04-16' });
    expect(releaseFromText('ignition-2.14.0')).toEqual({ kind: 'ignition', version: '2.14.0' });
    expect(releaseFromText('ami-0123456789abcdef0')).toBeUndefined();
    expect(releaseFromText('42.20251399.3.0')).toBeUndefined();
    expect(imageRelease({ id: '/var/lib/x.qcow2' })).toBeUndefined();
    expect(imageRelease({ id: 'projects/fedora-coreos-cloud/global/images/fedora-coreos-42-20250901-3-0-gcp-x86-64' })).toMatchObject({ built: '2025-09-01' });
    expect(imageRelease({ id: 'ami-1', version: '42.20250901.3.0' })).toMatchObject({ kind: 'fcos' });
    expect(imageRelease({ id: 'ami-1', version: '42.20250901.3.0' }, 'ignition-2.14.0')).toEqual({ kind: 'ignition', version: '2.14.0' });
    expect(() => parseImageRelease('latest')).toThrow(/--image-release "latest": give a Fedora CoreOS build/);
  });
});

describe('which image reads which spec', () => {
  it('the table covers every Ignition spec cnvm writes', () => {
    expect(IGNITION_RELEASES.map((r) => r.spec)).toEqual(IGNITION_SPECS.map((s) => s.version));
  });

  it('by Ignition version: Debian 2.14 reads ≤ 3.3, 2.20 reads 3.5 but not 3.6, experimental specs only on their line', () => {
    const debian = { kind: 'ignition' as const, version: '2.14.0' };
    expect(checkSpecSupport(debian, '3.3.0').verdict).toBe('reads');
    const v = checkSpecSupport(debian, '3.4.0');
    expect(v).toMatchObject({ verdict: 'cannot-read', newestSpec: '3.3.0' });
    expect(v.newestButane).toEqual(['fcos 1.4.0', 'flatcar 1.0.0', 'r4e 1.0.0']);
    expect(checkSpecSupport({ kind: 'ignition', version: '2.20.0' }, '3.5.0').verdict).toBe('reads');
    expect(checkSpecSupport({ kind: 'ignition', version: '2.25.1' }, '3.6.0').verdict).toBe('cannot-read');
    expect(checkSpecSupport({ kind: 'ignition', version: '2.26.0' }, '3.7.0-experimental').verdict).toBe('reads');
    expect(checkSpecSupport({ kind: 'ignition', version: '2.27.0' }, '3.7.0-experimental').verdict).toBe('cannot-read');
  });

  it('by FCOS build date: before the release no, within the promotion window uncertain, after it yes', () => {
    const at = (built: string) => ({ kind: 'fcos' as const, version: `41.${built.replaceAll('-', '')}.3.0`, built });
    expect(checkSpecSupport(at('2024-10-01'), '3.5.0').verdict).toBe('cannot-read');
    expect(checkSpecSupport(at('2024-10-30'), '3.5.0').verdict).toBe('uncertain');
    const later = new Date(Date.parse('2024-10-22T00:00:00Z') + PROMOTION_DAYS * 86_400_000).toISOString().slice(0, 10);
    expect(checkSpecSupport(at(later), '3.5.0').verdict).toBe('reads');
    expect(checkSpecSupport(at('2024-10-01'), '3.4.0')).toMatchObject({ verdict: 'reads', newestSpec: '3.4.0' });
  });

  it('a spec 3.5 config for an image that reads ≤ 3.4 is refused with both versions and what the image reads', () => {
    const image = parseImageRelease('40.20240416.3.1');
    expect(() => assertImageReads(image, '3.5.0')).toThrow(
      /version skew: the config is Ignition spec 3\.5\.0, but Fedora CoreOS 40\.20240416\.3\.1 cannot read Ignition spec 3\.5\.0: spec 3\.5\.0 needs Ignition ≥ 2\.20\.0 \(released 2024-10-22\); it reads ≤ 3\.4\.0 \(Butane fcos 1\.5\.0, flatcar 1\.1\.0, r4e 1\.1\.0\)/,
    );
    expect(assertImageReads(undefined, '3.5.0').verdict).toBe('unknown');
    expect(newestButaneFor('3.6.0')).toEqual(['fcos 1.7.0']);
  });
});
