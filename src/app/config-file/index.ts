import { assertAdmin } from '../../engine/services.ts';
import type { Home } from '../home.ts';
import { configJsonSchema } from './document.ts';
import { documentToYaml, readHomeState, stateToDocument } from './state.ts';

export { applyConfig, planConfig, type ConfigInput, type ConfigPlan, type FieldChange, type PlannedChange } from './plan.ts';
export { describeProblem, listReferences, localResolver, mapResolver, type ConfigProblem } from './source.ts';
export { configJsonSchema };

/**
 * The home's configuration as a file (`outflow config export`), so a team starts from what it has. Secrets are
 * never written: each is an `${env:OUTFLOW_…}` reference, listed in `variables`. Administrators only: the
 * file shows every connection's settings.
 */
export async function exportConfig(home: Home): Promise<{ yaml: string; variables: string[] }> {
  assertAdmin(home.actor, 'export the configuration');
  const { document, variables } = stateToDocument(await readHomeState(home));
  return { yaml: documentToYaml(document, variables), variables };
}
