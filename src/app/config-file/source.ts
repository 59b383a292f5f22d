import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { isMap, isScalar, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { closestMatch } from '../../lib/edit-distance.ts';
import { ConfigDocument, knownKeysAt } from './document.ts';
import { describeProblem, type ConfigProblem } from './problem.ts';

export { describeProblem, type ConfigProblem };

export type DocPath = Array<string | number>;

/** A parsed configuration file that remembers where each value came from. */
export interface ConfigSource {
  file: string;
  /** sha256 of the file's text: the audit log records which file an apply made real. */
  hash: string;
  doc: Document;
  lines: LineCounter;
}

export function formatPath(path: DocPath): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

export function problemAt(source: ConfigSource, at: DocPath, message: string, { key = false } = {}): ConfigProblem {
  const position = positionOf(source, at, key);
  return { message, path: formatPath(at), file: source.file, ...position };
}

/**
 * Line and column (1-based) of the value at `at`, or of its key (`key`: an unknown key is the key's fault);
 * a path the file lacks points at its nearest ancestor that exists (a missing setting: the object missing it).
 */
function positionOf(source: ConfigSource, at: DocPath, key: boolean): { line?: number; column?: number } {
  for (let n = at.length; n >= 0; n--) {
    const sub = at.slice(0, n);
    let node: Node | undefined;
    if (key && n === at.length && n > 0) {
      const parent = source.doc.getIn(sub.slice(0, -1), true);
      if (isMap(parent)) {
        const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === sub.at(-1));
        node = pair?.key as Node | undefined;
      }
    } else {
      node = (n === 0 ? source.doc.contents : source.doc.getIn(sub, true)) as Node | undefined;
    }
    if (node?.range) {
      const { line, col } = source.lines.linePos(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}

export class ConfigFileError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(describeProblem).join('\n'));
  }
}


/** Parses the file's text: YAML syntax, then the document's shape. Throws ConfigFileError with positions. */
export function parseConfigText(text: string, file: string): { source: ConfigSource; document: ConfigDocument } {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
  const source: ConfigSource = { file, hash: createHash('sha256').update(text).digest('hex'), doc, lines };
  if (doc.errors.length > 0) {
    throw new ConfigFileError(
      doc.errors.map((error) => {
        const pos = error.linePos?.[0];
        return { message: `YAML syntax: ${error.message.split('\n')[0]}`, path: '', file, ...(pos ? { line: pos.line, column: pos.col } : {}) };
      }),
    );
  }
  const parsed = ConfigDocument.safeParse(doc.toJS() ?? {});
  if (!parsed.success) {
    throw new ConfigFileError(
      parsed.error.issues.flatMap((issue): ConfigProblem[] => {
        const at = issue.path.filter((p): p is string | number => typeof p !== 'symbol');
        if (issue.code === 'unrecognized_keys') {
          const known = knownKeysAt(at);
          return issue.keys.map((k) => {
            const guess = closestMatch(k, known);
            return problemAt(source, [...at, k], `unknown key "${k}"${guess ? `; did you mean "${guess}"?` : `. Known keys: ${known.join(', ')}.`}`, { key: true });
          });
        }
        if (at.length === 1 && at[0] === 'version') return [problemAt(source, at, 'the file must start with `version: 1`')];
        if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) return [problemAt(source, at, `"${String(at.at(-1))}" is missing`)];
        return [problemAt(source, at, issue.message)];
      }),
    );
  }
  const problems = duplicateNames(source, parsed.data);
  if (problems.length > 0) throw new ConfigFileError(problems);
  return { source, document: parsed.data };
}

function duplicateNames(source: ConfigSource, document: ConfigDocument): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  for (const section of ['entities', 'segments', 'connections', 'exports'] as const) {
    const seen = new Map<string, number>();
    (document[section] ?? []).forEach((item, i) => {
      const first = seen.get(item.name);
      if (first === undefined) seen.set(item.name, i);
      else problems.push(problemAt(source, [section, i, 'name'], `"${item.name}" is listed twice in ${section} (first at ${section}[${first}]); give each one name`));
    });
  }
  return problems;
}

/** `${env:NAME}` or `${file:path}`: a secret the file names but never holds. */
const REFERENCE = /\$\{(env|file):([^}]+)\}/g;

/** How references turn into values: locally from the environment and files; through the server, only from what the CLI sent. */
export interface ReferenceResolver {
  (kind: 'env' | 'file', ref: string, text: string): string | undefined;
}

export function localResolver(baseDir: string, env: NodeJS.ProcessEnv = process.env): ReferenceResolver {
  return (kind, ref) => {
    if (kind === 'env') return env[ref] === '' ? undefined : env[ref];
    try {
      return fs.readFileSync(path.resolve(baseDir, ref), 'utf8').replace(/\r?\n$/, '');
    } catch {
      return undefined;
    }
  };
}

/** A resolver over the values a client resolved on its side (`${env:X}` → value), keyed by the reference text. */
export function mapResolver(values: Record<string, string>): ReferenceResolver {
  return (_kind, _ref, text) => values[text];
}

/** Every reference in the document, with where it is. */
export function listReferences(value: unknown, at: DocPath = []): Array<{ text: string; kind: 'env' | 'file'; ref: string; at: DocPath }> {
  if (typeof value === 'string') return [...value.matchAll(REFERENCE)].map((m) => ({ text: m[0], kind: m[1] as 'env' | 'file', ref: m[2]!.trim(), at }));
  if (Array.isArray(value)) return value.flatMap((v, i) => listReferences(v, [...at, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => listReferences(v, [...at, k]));
  return [];
}

export function hasReference(value: unknown): boolean {
  return listReferences(value).length > 0;
}

/** The document with every reference replaced by its value; an unset one is a problem at its position. */
export function resolveReferences<T>(source: ConfigSource, document: T, resolve: ReferenceResolver): T {
  const problems: ConfigProblem[] = [];
  const walk = (value: unknown, at: DocPath): unknown => {
    if (typeof value === 'string') {
      return value.replace(REFERENCE, (text, kind: 'env' | 'file', ref: string) => {
        const resolved = resolve(kind, ref.trim(), text);
        if (resolved === undefined) {
          problems.push(
            problemAt(source, at, kind === 'env' ? `the environment variable ${ref.trim()} is not set (referenced as ${text})` : `cannot read the file ${ref.trim()} (referenced as ${text}; relative paths start from the file's folder)`),
          );
          return '';
        }
        return resolved;
      });
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, [...at, k])]));
    return value;
  };
  const resolved = walk(document, []) as T;
  if (problems.length > 0) throw new ConfigFileError(problems);
  return resolved;
}
