import { ConfigError, type ErrorOptions } from '../../domain/errors.ts';
import { closestMatch } from '../../lib/edit-distance.ts';

/** A column of the entity a segment filters, as DuckDB describes it (`VARCHAR`, `BIGINT`, `DATE`, …). */
export interface ColumnInfo {
  name: string;
  type: string;
}

/**
 * A DuckDB boolean expression and its positional parameters. The expression is self-contained (an
 * `and`/`or` comes wrapped in parentheses), so callers can combine it: `WHERE ${sql} AND …`.
 */
export interface CompiledFilter {
  sql: string;
  params: unknown[];
}

export interface CompileFilterOptions {
  /** Number of the first placeholder, for filters appended to a query that already has parameters. */
  firstParam?: number;
}

/** A segment filter the user must fix; `position` is the 0-based offset into the filter text. */
export class FilterError extends ConfigError {
  readonly position: number;

  constructor(message: string, position: number, options: ErrorOptions = {}) {
    super('invalid_filter', message, options);
    this.position = position;
  }
}

/**
 * Compiles a segment filter (`country = 'NL' and (orders >= 3 or vip)`) into DuckDB SQL. Every literal
 * becomes a parameter and every column is quoted from `columns`, so no user text reaches the SQL.
 * Throws a {@link FilterError} with the position of the first problem.
 *
 * Grammar, keywords case-insensitive, precedence `not` > `and` > `or`:
 * `column (= | != | <> | < | <= | > | >=) value`, `column [not] in (value, …)`,
 * `column [not] like 'pattern'`, `column is [not] null`, a bare BOOLEAN column, `not`, `and`, `or`,
 * parentheses. Values are 'strings' ('' for a quote), numbers (`-12`, `3.5`), `true` and `false`.
 * Columns are identifiers or "double-quoted names".
 *
 * @example
 * compileFilter("email like '%@example.com' and signup_date >= '2024-01-01'", columns)
 * // { sql: '("email" LIKE $1 AND "signup_date" >= CAST($2 AS DATE))', params: ['%@example.com', '2024-01-01'] }
 */
export function compileFilter(text: string, columns: ColumnInfo[], options: CompileFilterOptions = {}): CompiledFilter {
  const firstParam = options.firstParam ?? 1;
  if (!Number.isSafeInteger(firstParam) || firstParam < 1) {
    throw new RangeError(`firstParam must be a positive integer, got ${firstParam}`);
  }
  return new Parser(text, tokenize(text), columns, firstParam).parseFilter();
}

/**
 * The filter line holding the error's position with a caret under it, for the CLI to print below the
 * message. Multi-line filters show only the offending line, labelled; long lines are cut around the caret.
 *
 * @example
 * formatFilterError("age >= 'x'", error)
 * // "age >= 'x'\n       ^"
 */
export function formatFilterError(text: string, error: Pick<FilterError, 'position'>): string {
  const position = Math.min(Math.max(error.position, 0), text.length);
  const lineStart = text.lastIndexOf('\n', position - 1) + 1;
  const newline = text.indexOf('\n', position);
  let line = text.slice(lineStart, newline === -1 ? text.length : newline).replace(/\r$/, '');
  let column = position - lineStart;

  if (line.length > MAX_SHOWN_LINE) {
    const start = Math.max(0, Math.min(column - CARET_CONTEXT, line.length - MAX_SHOWN_LINE));
    const end = start + MAX_SHOWN_LINE;
    const prefix = start > 0 ? '…' : '';
    line = prefix + line.slice(start, end) + (end < line.length ? '…' : '');
    column = column - start + prefix.length;
  }

  const label = text.includes('\n') ? `line ${countLines(text, lineStart)}: ` : '';
  // Keep tabs so the caret lines up with the text above it in a terminal.
  const padding = line.slice(0, column).replace(/[^\t]/g, ' ');
  return `${label}${line}\n${' '.repeat(label.length)}${padding}^`;
}

const MAX_SHOWN_LINE = 100;
const CARET_CONTEXT = 40;
// Recursion guard for `((((…` and `not not not …`: a filter this deep is a mistake or an attack.
const MAX_DEPTH = 100;
const MAX_LISTED_COLUMNS = 12;

function countLines(text: string, upTo: number): number {
  let lines = 1;
  for (let i = text.indexOf('\n'); i !== -1 && i < upTo; i = text.indexOf('\n', i + 1)) lines++;
  return lines;
}

// ---------------------------------------------------------------------------------------------------
// Tokens

const KEYWORDS = new Set(['and', 'or', 'not', 'in', 'like', 'is', 'null', 'true', 'false']);

type Token =
  | { kind: 'name'; value: string; quoted: boolean; position: number }
  | { kind: 'keyword'; value: string; raw: string; position: number }
  | { kind: 'string'; value: string; position: number }
  | { kind: 'number'; value: string; position: number }
  | { kind: 'symbol'; value: string; position: number }
  | { kind: 'invalid'; value: string; position: number }
  | { kind: 'end'; position: number };

const SYMBOLS = ['<=', '>=', '<>', '!=', '=', '<', '>', '(', ')', ','];
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;
// A run of letters in any script, so `prénom` is reported whole rather than as `pr` and a stray `é`.
const WORD_AT = /[\p{L}_][\p{L}\p{M}\p{N}_]*/uy;
const NUMBER_AT = /-?\d+(?:\.\d+)?/y;
const NUMBER = /^-?\d+(?:\.\d+)?$/;

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const char = text[i] as string;
    if (/\s/.test(char)) {
      i++;
      continue;
    }
    const position = i;

    if (char === "'" || char === '"') {
      const { value, end } = readQuoted(text, i, char);
      if (char === "'") {
        tokens.push({ kind: 'string', value, position });
      } else {
        if (value === '') {
          throw new FilterError(
            `Expected a column name inside the double quotes at position ${position}, found ""`,
            position,
          );
        }
        tokens.push({ kind: 'name', value, quoted: true, position });
      }
      i = end;
      continue;
    }

    WORD_AT.lastIndex = i;
    const word = WORD_AT.exec(text)?.[0];
    if (word) {
      if (!IDENTIFIER.test(word)) {
        throw new FilterError(
          `Expected a column name of letters A-Z, digits and _ at position ${position}, found '${shorten(word)}'; ` +
            `write other names in double quotes: ${quoteName(word)}`,
          position,
        );
      }
      const end = i + word.length;
      const lower = word.toLowerCase();
      tokens.push(
        KEYWORDS.has(lower)
          ? { kind: 'keyword', value: lower, raw: word, position }
          : { kind: 'name', value: word, quoted: false, position },
      );
      i = end;
      continue;
    }

    NUMBER_AT.lastIndex = i;
    const number = NUMBER_AT.exec(text);
    if (number) {
      let end = i + number[0].length;
      // `12abc` or `1.2.3` is neither a number nor a name: report the whole word.
      if (end < text.length && /[A-Za-z0-9_.]/.test(text[end] as string)) {
        while (end < text.length && /[A-Za-z0-9_.]/.test(text[end] as string)) end++;
        tokens.push({ kind: 'invalid', value: text.slice(i, end), position });
      } else {
        tokens.push({ kind: 'number', value: number[0], position });
      }
      i = end;
      continue;
    }

    const symbol = SYMBOLS.find((candidate) => text.startsWith(candidate, i));
    if (symbol) {
      tokens.push({ kind: 'symbol', value: symbol, position });
      i += symbol.length;
      continue;
    }

    const invalid = String.fromCodePoint(text.codePointAt(i) as number);
    tokens.push({ kind: 'invalid', value: invalid, position });
    i += invalid.length;
  }
  tokens.push({ kind: 'end', position: text.length });
  return tokens;
}

/** Reads a quoted string or name starting at `start`; a doubled quote stands for one quote. */
function readQuoted(text: string, start: number, quote: string): { value: string; end: number } {
  let value = '';
  let i = start + 1;
  for (;;) {
    const next = text.indexOf(quote, i);
    if (next === -1) {
      const what = quote === "'" ? 'string' : 'column name';
      throw new FilterError(
        `Expected a closing ${quote} for the ${what} that starts at position ${start}, found end of filter` +
          (quote === "'" ? " (write '' for a quote inside a string)" : ''),
        start,
      );
    }
    value += text.slice(i, next);
    if (text[next + 1] === quote) {
      value += quote;
      i = next + 2;
    } else {
      return { value, end: next + 1 };
    }
  }
}

type Literal = Extract<Token, { kind: 'string' | 'number' | 'keyword' }>;

/** A string, a number, `true` or `false`. */
function isLiteral(token: Token): token is Literal {
  if (token.kind === 'keyword') return token.value === 'true' || token.value === 'false';
  return token.kind === 'string' || token.kind === 'number';
}

function describe(token: Token): string {
  switch (token.kind) {
    case 'end':
      return 'end of filter';
    case 'string':
      return `string ${quoteText(token.value)}`;
    case 'number':
      return `number ${token.value}`;
    case 'name':
      return `name ${token.quoted ? quoteName(token.value) : token.value}`;
    case 'keyword':
      return `'${token.raw}'`;
    case 'symbol':
      return `'${token.value}'`;
    case 'invalid':
      return /^\p{C}$/u.test(token.value)
        ? `character U+${(token.value.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`
        : `'${shorten(token.value)}'`;
  }
}

function shorten(text: string): string {
  return text.length > 30 ? `${text.slice(0, 29)}…` : text;
}

function quoteText(text: string): string {
  return `'${shorten(text).replaceAll("'", "''")}'`;
}

function quoteName(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A column name as the user would type it in a filter. */
function columnLabel(name: string): string {
  return IDENTIFIER.test(name) && !KEYWORDS.has(name.toLowerCase()) ? name : quoteName(name);
}

function sqlIdentifier(name: string): string {
  return quoteName(name);
}

// ---------------------------------------------------------------------------------------------------
// Column types

type ValueKind = 'text' | 'number' | 'boolean' | 'date' | 'timestamp' | 'timestamptz' | 'time' | 'uuid' | 'other';

const KIND_BY_BASE_TYPE: Record<string, ValueKind> = {
  VARCHAR: 'text', TEXT: 'text', STRING: 'text', CHAR: 'text', BPCHAR: 'text', JSON: 'text', ENUM: 'text',
  TINYINT: 'number', SMALLINT: 'number', INTEGER: 'number', INT: 'number', BIGINT: 'number', HUGEINT: 'number',
  UTINYINT: 'number', USMALLINT: 'number', UINTEGER: 'number', UBIGINT: 'number', UHUGEINT: 'number',
  INT1: 'number', INT2: 'number', INT4: 'number', INT8: 'number', SHORT: 'number', LONG: 'number',
  FLOAT: 'number', FLOAT4: 'number', FLOAT8: 'number', REAL: 'number', DOUBLE: 'number',
  DECIMAL: 'number', NUMERIC: 'number',
  BOOLEAN: 'boolean', BOOL: 'boolean', LOGICAL: 'boolean',
  DATE: 'date',
  TIMESTAMP: 'timestamp', DATETIME: 'timestamp', TIMESTAMP_S: 'timestamp', TIMESTAMP_MS: 'timestamp',
  TIMESTAMP_US: 'timestamp', TIMESTAMP_NS: 'timestamp', TIMESTAMPTZ: 'timestamptz',
  TIME: 'time',
  UUID: 'uuid',
};

function kindOf(type: string): ValueKind {
  const upper = type.trim().toUpperCase();
  if (/\[\d*\]$/.test(upper)) return 'other'; // lists and arrays, e.g. VARCHAR[]
  if (upper === 'TIMESTAMP WITH TIME ZONE') return 'timestamptz';
  if (upper.startsWith('TIME WITH TIME ZONE')) return 'other';
  return KIND_BY_BASE_TYPE[/^[A-Z0-9_]+/.exec(upper)?.[0] ?? ''] ?? 'other';
}

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})$/;
// DuckDB takes an offset only after the seconds, and only as ±HH or ±HH:MM.
const TIMESTAMP_TEXT =
  /^(\d{4}-\d{2}-\d{2})(?:[T ](?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?(Z|[+-]\d{2}(?::\d{2})?)?)?)?$/;
const TIME_TEXT = /^(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?$/;
const UUID_TEXT = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;
const UTC_OFFSET = /^(?:Z|[+-]00(?::00)?)$/;

function isCalendarDate(text: string): boolean {
  const match = DATE_TEXT.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}

interface StringCast {
  sqlType: string;
  expected: string;
  accepts: (text: string) => boolean;
  /** Why a near miss was refused, appended to the message. */
  hint?: (text: string) => string;
}

/** How a string literal is checked and cast for each temporal or UUID column kind. */
const CAST_STRING: Partial<Record<ValueKind, StringCast>> = {
  date: { sqlType: 'DATE', expected: "a date 'YYYY-MM-DD'", accepts: isCalendarDate },
  timestamp: {
    sqlType: 'TIMESTAMP',
    expected: "a timestamp 'YYYY-MM-DD HH:MM:SS'",
    // DuckDB drops a non-zero offset when casting to a TIMESTAMP without time zone, which would silently
    // shift the comparison; only Z and +00:00 are accepted here.
    accepts: (text) => {
      const match = TIMESTAMP_TEXT.exec(text);
      if (!match || !isCalendarDate(match[1] as string)) return false;
      return match[2] === undefined || UTC_OFFSET.test(match[2]);
    },
    hint: (text) =>
      TIMESTAMP_TEXT.exec(text)?.[2] ? '; the column has no time zone, so write UTC with Z or no offset' : '',
  },
  timestamptz: {
    sqlType: 'TIMESTAMPTZ',
    expected: "a timestamp 'YYYY-MM-DD HH:MM:SS[+HH:MM]'",
    accepts: (text) => {
      const match = TIMESTAMP_TEXT.exec(text);
      return match !== null && isCalendarDate(match[1] as string);
    },
  },
  time: { sqlType: 'TIME', expected: "a time 'HH:MM[:SS]'", accepts: (text) => TIME_TEXT.test(text) },
  uuid: { sqlType: 'UUID', expected: 'a UUID in single quotes', accepts: (text) => UUID_TEXT.test(text) },
};

/** Integers stay exact: a literal beyond 2^53 is bound as a bigint (DuckDB HUGEINT). */
function numberValue(text: string): number | bigint {
  if (text.includes('.')) return Number(text);
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : BigInt(text);
}

// ---------------------------------------------------------------------------------------------------
// Parser: recursive descent that writes SQL as it goes, so parameters are numbered in reading order.

interface Fragment {
  sql: string;
  /** An `and`/`or` list, already wrapped in parentheses. */
  isList: boolean;
}

interface ResolvedColumn {
  info: ColumnInfo;
  kind: ValueKind;
  token: Token;
}

const COMPARISONS: Record<string, string> = {
  '=': '=',
  '!=': '<>',
  '<>': '<>',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

class Parser {
  private index = 0;
  private depth = 0;
  private readonly params: unknown[] = [];

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly columns: ColumnInfo[],
    private readonly firstParam: number,
  ) {}

  parseFilter(): CompiledFilter {
    if (this.peek().kind === 'end') {
      const first = this.columns[0];
      const example = first ? `${columnLabel(first.name)} is not null` : "email like '%@example.com'";
      throw new FilterError(
        `Expected a condition at position ${this.text.length}, found an empty filter; for example: ${example}`,
        this.text.length,
      );
    }
    const expression = this.parseOr();
    const next = this.peek();
    if (next.kind !== 'end') {
      const hint = this.isSymbol(next, ')') ? "; this ')' has no matching '('" : '';
      throw this.expected("'and', 'or' or end of filter", next, hint);
    }
    return { sql: expression.sql, params: this.params };
  }

  private parseOr(): Fragment {
    return this.parseChain('or', () => this.parseAnd());
  }

  private parseAnd(): Fragment {
    return this.parseChain('and', () => this.parseUnary());
  }

  private parseChain(keyword: 'and' | 'or', parseItem: () => Fragment): Fragment {
    const items = [parseItem()];
    while (this.isKeyword(this.peek(), keyword)) {
      this.next();
      items.push(parseItem());
    }
    if (items.length === 1) return items[0] as Fragment;
    return { sql: `(${items.map((item) => item.sql).join(` ${keyword.toUpperCase()} `)})`, isList: true };
  }

  private parseUnary(): Fragment {
    const token = this.peek();
    if (this.isKeyword(token, 'not')) {
      this.next();
      const operand = this.nested(token, () => this.parseUnary());
      return { sql: operand.isList ? `NOT ${operand.sql}` : `NOT (${operand.sql})`, isList: false };
    }
    if (token.kind === 'symbol' && token.value === '(') {
      this.next();
      const inner = this.nested(token, () => this.parseOr());
      const close = this.peek();
      if (!(close.kind === 'symbol' && close.value === ')')) {
        throw this.expected("')'", close, `; the '(' at position ${token.position} is not closed`);
      }
      this.next();
      return inner;
    }
    if (token.kind === 'name') {
      this.next();
      return this.parsePredicate(this.resolveColumn(token));
    }
    throw this.expected('a column name', token, this.columnNameHint(token));
  }

  private nested<T>(token: Token, parse: () => T): T {
    if (++this.depth > MAX_DEPTH) {
      throw new FilterError(
        `The filter nests 'not' and parentheses more than ${MAX_DEPTH} levels deep at position ` +
          `${token.position}; simplify it`,
        token.position,
      );
    }
    const result = parse();
    this.depth--;
    return result;
  }

  private parsePredicate(column: ResolvedColumn): Fragment {
    const name = sqlIdentifier(column.info.name);
    const token = this.peek();

    if (token.kind === 'symbol' && COMPARISONS[token.value]) {
      this.next();
      const value = this.parseValue(column, token, `a value after '${token.value}'`);
      return { sql: `${name} ${COMPARISONS[token.value]} ${value}`, isList: false };
    }

    if (token.kind === 'keyword') {
      if (token.value === 'is') {
        this.next();
        const negated = this.isKeyword(this.peek(), 'not');
        if (negated) this.next();
        const nullToken = this.peek();
        if (!this.isKeyword(nullToken, 'null')) {
          const hint =
            column.kind === 'boolean' && isLiteral(nullToken) && nullToken.kind === 'keyword'
              ? `; write ${columnLabel(column.info.name)} ${negated ? '!=' : '='} ${nullToken.value}`
              : '';
          throw this.expected(negated ? "'null' after 'is not'" : "'null' or 'not null' after 'is'", nullToken, hint);
        }
        this.next();
        return { sql: `${name} IS ${negated ? 'NOT ' : ''}NULL`, isList: false };
      }

      const negated = token.value === 'not';
      const operator = negated ? this.peekAt(1) : token;
      if (negated && !(this.isKeyword(operator, 'in') || this.isKeyword(operator, 'like'))) {
        throw this.expected("'in' or 'like' after 'not'", operator);
      }
      if (this.isKeyword(operator, 'in')) {
        this.index += negated ? 2 : 1;
        const values = this.parseInList(column, operator);
        return { sql: `${name} ${negated ? 'NOT IN' : 'IN'} (${values.join(', ')})`, isList: false };
      }
      if (this.isKeyword(operator, 'like')) {
        this.index += negated ? 2 : 1;
        const pattern = this.parseLikePattern(column, operator);
        return { sql: `${name} ${negated ? 'NOT LIKE' : 'LIKE'} ${pattern}`, isList: false };
      }
    }

    // A BOOLEAN column stands on its own: `is_vip and not unsubscribed`.
    const endsCondition =
      token.kind === 'end' ||
      (token.kind === 'symbol' && token.value === ')') ||
      this.isKeyword(token, 'and') ||
      this.isKeyword(token, 'or');
    if (column.kind === 'boolean' && endsCondition) return { sql: name, isList: false };

    const label = columnLabel(column.info.name);
    const hint = endsCondition ? `; only a BOOLEAN column can stand alone, and ${label} is ${column.info.type}` : '';
    throw this.expected(`an operator (=, !=, <, <=, >, >=, in, like, is) after ${label}`, token, hint);
  }

  private parseInList(column: ResolvedColumn, operator: Token): string[] {
    const open = this.peek();
    if (!(open.kind === 'symbol' && open.value === '(')) throw this.expected("'(' after 'in'", open);
    this.next();
    if (this.isSymbol(this.peek(), ')')) {
      throw this.expected("at least one value inside 'in (…)'", this.peek(), '; an empty list matches nothing');
    }
    const values = [this.parseValue(column, operator, "a value inside 'in (…)'")];
    for (;;) {
      const token = this.peek();
      if (this.isSymbol(token, ')')) break;
      if (!this.isSymbol(token, ',')) {
        throw this.expected("',' or ')'", token, `; the '(' at position ${open.position} is not closed`);
      }
      this.next();
      values.push(this.parseValue(column, operator, "a value after ','"));
    }
    this.next();
    return values;
  }

  private parseLikePattern(column: ResolvedColumn, operator: Token): string {
    if (column.kind !== 'text') {
      throw new FilterError(
        `Expected a text column before 'like' at position ${operator.position}, ` +
          `found ${columnLabel(column.info.name)} (${column.info.type}); 'like' only matches text, ` +
          'use =, <, > or in for other columns',
        operator.position,
      );
    }
    const token = this.peek();
    if (token.kind !== 'string') {
      throw this.expected("a pattern in single quotes after 'like'", token, this.nullHint(token, column, operator));
    }
    this.next();
    return this.param(token.value);
  }

  /** Reads one literal and returns its placeholder, checked against and cast to the column's type. */
  private parseValue(column: ResolvedColumn, operator: Token, expected: string): string {
    const token = this.peek();
    if (!isLiteral(token)) {
      throw this.expected(expected, token, this.nullHint(token, column, operator) || this.valueHint(token));
    }
    this.next();
    const isBoolean = token.kind === 'keyword';
    const label = `${columnLabel(column.info.name)} (${column.info.type})`;
    const mismatch = (what: string, hint = ''): FilterError =>
      new FilterError(
        `Expected ${what} for ${label} at position ${token.position}, found ${describe(token)}${hint}`,
        token.position,
      );

    switch (column.kind) {
      case 'text':
        if (isBoolean) throw mismatch('text in single quotes');
        // A bare number against a text column means its digits: `zip = 02134` compares with '02134'.
        return this.param(token.value);
      case 'number':
        if (token.kind === 'number') return this.param(numberValue(token.value));
        if (token.kind === 'string' && NUMBER.test(token.value)) return this.param(numberValue(token.value));
        throw mismatch('a number');
      case 'boolean':
        if (isBoolean) return this.param(token.value === 'true');
        throw mismatch('true or false');
      case 'other':
        throw new FilterError(
          `Column ${label} at position ${column.token.position} cannot be compared with a value; ` +
            'test it only with is null or is not null',
          column.token.position,
        );
      default: {
        const cast = CAST_STRING[column.kind];
        if (!cast) throw new Error(`no cast for column kind ${column.kind}`);
        if (token.kind !== 'string') throw mismatch(cast.expected);
        if (!cast.accepts(token.value)) throw mismatch(cast.expected, cast.hint?.(token.value));
        return `CAST(${this.param(token.value)} AS ${cast.sqlType})`;
      }
    }
  }

  private param(value: unknown): string {
    this.params.push(value);
    return `$${this.firstParam + this.params.length - 1}`;
  }

  private resolveColumn(token: Token & { kind: 'name' }): ResolvedColumn {
    const exact = this.columns.find((column) => column.name === token.value);
    const lower = token.value.toLowerCase();
    const matches = exact ? [exact] : this.columns.filter((column) => column.name.toLowerCase() === lower);
    if (matches.length > 1) {
      throw new FilterError(
        `Column ${columnLabel(token.value)} at position ${token.position} matches ` +
          `${matches.map((column) => columnLabel(column.name)).join(' and ')}, which differ only in case; ` +
          'write the exact name',
        token.position,
      );
    }
    const [info] = matches;
    if (!info) {
      const suggestion = closestColumn(token.value, this.columns);
      throw new FilterError(
        `Unknown column ${columnLabel(token.value)} at position ${token.position}` +
          (suggestion ? `; did you mean ${columnLabel(suggestion)}? Known columns: ` : '; known columns: ') +
          `${listColumns(this.columns)}.`,
        token.position,
      );
    }
    return { info, kind: kindOf(info.type), token };
  }

  private nullHint(token: Token, column: ResolvedColumn, operator: Token): string {
    if (!this.isKeyword(token, 'null')) return '';
    const negated = operator.kind === 'symbol' && (operator.value === '!=' || operator.value === '<>');
    return `; nothing equals null, write ${columnLabel(column.info.name)} is ${negated ? 'not ' : ''}null`;
  }

  private valueHint(token: Token): string {
    if (token.kind !== 'name') return '';
    if (token.quoted) return `; text goes in single quotes: ${quoteText(token.value)}`;
    const isColumn = this.columns.some((column) => column.name.toLowerCase() === token.value.toLowerCase());
    return isColumn
      ? '; a filter compares a column with a value, not with another column'
      : `; text goes in single quotes: ${quoteText(token.value)}`;
  }

  private columnNameHint(token: Token): string {
    if (token.kind !== 'keyword' && token.kind !== 'string') return '';
    const word = token.kind === 'keyword' ? token.raw : token.value;
    const column = this.columns.find((c) => c.name.toLowerCase() === word.toLowerCase());
    if (!column) return '';
    return token.kind === 'keyword'
      ? `; a column named like a keyword goes in double quotes: ${quoteName(column.name)}`
      : `; column names go in double quotes, not single quotes: ${columnLabel(column.name)}`;
  }

  private expected(what: string, found: Token, hint = ''): FilterError {
    const message = `Expected ${what} at position ${found.position}, found ${describe(found)}${hint}`;
    return new FilterError(message, found.position);
  }

  private isKeyword(token: Token | undefined, keyword: string): boolean {
    return token?.kind === 'keyword' && token.value === keyword;
  }

  private isSymbol(token: Token, symbol: string): boolean {
    return token.kind === 'symbol' && token.value === symbol;
  }

  private peek(): Token {
    return this.peekAt(0);
  }

  private peekAt(offset: number): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (this.index < this.tokens.length - 1) this.index++;
    return token;
  }
}

// ---------------------------------------------------------------------------------------------------
// Suggestions

function listColumns(columns: ColumnInfo[]): string {
  if (columns.length === 0) return 'none';
  const labels = columns.map((column) => columnLabel(column.name));
  if (labels.length <= MAX_LISTED_COLUMNS) return labels.join(', ');
  const shown = MAX_LISTED_COLUMNS - 2;
  return `${labels.slice(0, shown).join(', ')} and ${labels.length - shown} more`;
}

/** The known column nearest to `name` by edit distance, if it is near enough to be a likely typo. */
function closestColumn(name: string, columns: ColumnInfo[]): string | undefined {
  return closestMatch(name, columns.map((column) => column.name));
}

/**
 * The same filter for PostgreSQL. The compiled SQL is portable except in two places: PostgreSQL infers an
 * untyped parameter's type from the column it meets, so `orders >= 2.5` against a BIGINT would refuse '2.5'
 * (numbers are therefore bound as NUMERIC, compared as DuckDB compares them), and PostgreSQL's LIKE treats a
 * backslash as an escape where DuckDB's does not (`ESCAPE ''` turns that off). Quoted column names are
 * copied as they are, so a column named like a placeholder is never touched. `firstParam` is the one the
 * filter was compiled with.
 */
export function toPostgresFilter(filter: CompiledFilter, firstParam = 1): CompiledFilter {
  const { sql, params } = filter;
  let out = '';
  for (let i = 0; i < sql.length; ) {
    const ch = sql[i]!;
    if (ch === '"') {
      let end = i + 1;
      for (;;) {
        end = sql.indexOf('"', end);
        if (end === -1) throw new Error('unterminated identifier in compiled filter');
        if (sql[end + 1] === '"') end += 2;
        else break;
      }
      out += sql.slice(i, end + 1);
      i = end + 1;
      continue;
    }
    const placeholder = /^\$(\d+)/.exec(sql.slice(i, i + 12));
    if (ch === '$' && placeholder) {
      const value = params[Number(placeholder[1]) - firstParam];
      const numeric = typeof value === 'number' || typeof value === 'bigint';
      const like = out.endsWith(' LIKE ');
      out += numeric ? `CAST(${placeholder[0]} AS NUMERIC)` : placeholder[0];
      if (like) out += " ESCAPE ''";
      i += placeholder[0].length;
      continue;
    }
    out += ch;
    i++;
  }
  return { sql: out, params: params.map((p) => (typeof p === 'bigint' ? p.toString() : p)) };
}
