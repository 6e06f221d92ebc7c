// The version-skew check as the CLI runs it: after the image is known and before anything changes. A config the
// image cannot read is refused (exit 2); an uncertain answer is a warning; the plan of a dry run names the check.
import type { ImageRef } from '../provider/types.js';

export async function versionSkewLine(image: ImageRef, imageReleaseFlag: string | undefined, say: (line: string) => void): Promise<string> {
  const [{ assertImageReads, imageRelease }, { VM_CONFIG_SPEC }] = await Promise.all([import('../image/ignition-support.js'), import('../lifecycle/config.js')]);
  const verdict = assertImageReads(imageRelease(image, imageReleaseFlag), VM_CONFIG_SPEC, "the VM's config");
  if (verdict.verdict === 'uncertain') say(`warning: ${verdict.message}`);
  return `version check: ${verdict.message}`;
}
