/** Something in a configuration file that stops its plan, with where it is. Free of dependencies: the CLI loads it at start-up. */
export interface ConfigProblem {
  message: string;
  /** Where in the document, e.g. `exports[1].config.mapping.email`. */
  path: string;
  file: string;
  line?: number;
  column?: number;
}

/** `outflow.yaml:12:5: exports[1].config.mapping.email: …` (the CLI prints problems the same way). */
export function describeProblem(problem: ConfigProblem): string {
  const where = problem.line ? `${problem.file}:${problem.line}:${problem.column}` : problem.file;
  return `${where}: ${problem.path ? `${problem.path}: ` : ''}${problem.message}`;
}
