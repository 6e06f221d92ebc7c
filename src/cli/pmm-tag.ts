// --pmm-tag (or a profile's pmm.tag) made concrete before anything happens: `latest`, `3`, `3.4` become the newest
// matching percona/pmm release and an exact tag is checked against the releases (src/workload/pmm-release.ts).
// The concrete tag is what the plan shows and the record keeps. With no tag given, the recipe's floating default
// stays and GitHub is not asked (a plain provision needs no network beyond the provider's).
import type { DesiredInputs } from './inputs.js';

export async function withConcretePmmTag(inputs: DesiredInputs, origin: string, say: (line: string) => void): Promise<DesiredInputs> {
  const requested = inputs.overrides.pmm?.tag ?? inputs.defaults.pmm.tag;
  if (requested === undefined) return inputs;
  const { concretePmmTag } = await import('../workload/pmm-release.js');
  const token = process.env.GITHUB_TOKEN;
  const concrete = await concretePmmTag(requested, token ? { token } : {}, origin);
  if (concrete.warning) say(concrete.warning);
  else if (concrete.tag !== requested) say(`note: ${origin.startsWith("--") ? `${origin} ${requested}` : `${origin}: pmm.tag ${JSON.stringify(requested)}`} is PMM ${concrete.tag} (the newest matching release on GitHub)`);
  const tag = concrete.tag;
  return {
    ...inputs,
    defaults: { ...inputs.defaults, pmm: { ...inputs.defaults.pmm, tag } },
    overrides: inputs.overrides.pmm?.tag !== undefined ? { ...inputs.overrides, pmm: { ...inputs.overrides.pmm, tag } } : inputs.overrides,
  };
}
