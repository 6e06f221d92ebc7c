// The Fedora CoreOS images an exported template boots, from stream metadata (the same document `cnvm provision`
// resolves its image from): every region's AMI for CloudFormation's mapping and Terraform's lookup table, the GCE
// image, and the QEMU image's URL for libvirt users.
import { awsImage, gcpImage, qemuArtifact, type StreamName } from '../image/stream.js';

export interface StreamImages {
  stream: StreamName;
  /** The FCOS release the stream names (for the template's description). */
  release: string;
  /** region → AMI id, sorted by region. */
  amis: Record<string, string>;
  /** projects/P/global/images/NAME */
  gcpImage?: string;
  qemuUrl?: string;
}

const regionsOf = (stream: unknown): string[] => {
  const aws = (stream as { architectures?: Record<string, { images?: { aws?: { regions?: Record<string, unknown> } } }> }).architectures?.x86_64?.images?.aws;
  return Object.keys(aws?.regions ?? {}).sort();
};

/** Reads what the export needs from a stream document; a stream without AWS images is an error for CloudFormation. */
export function streamImages(stream: unknown, name: StreamName): StreamImages {
  const amis: Record<string, string> = {};
  let release = '';
  for (const region of regionsOf(stream)) {
    const image = awsImage(stream, name, region);
    amis[region] = image.ami;
    release ||= image.release;
  }
  let gcp: string | undefined;
  try {
    const g = gcpImage(stream, name);
    gcp = `projects/${g.project}/global/images/${g.name}`;
    release ||= g.release;
  } catch {
    gcp = undefined;
  }
  let qemuUrl: string | undefined;
  try {
    const q = qemuArtifact(stream, name);
    qemuUrl = q.location;
    release ||= q.release;
  } catch {
    qemuUrl = undefined;
  }
  return { stream: name, release, amis, ...(gcp ? { gcpImage: gcp } : {}), ...(qemuUrl ? { qemuUrl } : {}) };
}
