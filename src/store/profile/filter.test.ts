import { DuckDBInstance, type DuckDBConnection, type DuckDBValue } from '@duckdb/node-api';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { POSTGRES_URL, uniqueSchema } from '../../../test/support/postgres.ts';
import { ConfigError } from '../../domain/errors.ts';
import { compileFilter, FilterError, formatFilterError, toPostgresFilter, type ColumnInfo } from './filter.ts';

const columns: ColumnInfo[] = [
  { name: 'id', type: 'BIGINT' },
  { name: 'email', type: 'VARCHAR' },
  { name: 'country', type: 'VARCHAR' },
  { name: 'first name', type: 'VARCHAR' },
  { name: 'orders', type: 'INTEGER' },
  { name: 'lifetime_value', type: 'DECIMAL(18,2)' },
  { name: 'vip', type: 'BOOLEAN' },
  { name: 'signup_date', type: 'DATE' },
  { name: 'last_seen', type: 'TIMESTAMP' },
  { name: 'last_seen_tz', type: 'TIMESTAMP WITH TIME ZONE' },
  { name: 'account_id', type: 'UUID' },
  { name: 'tags', type: 'VARCHAR[]' },
];

function compile(text: string, options?: { firstParam?: number }) {
  return compileFilter(text, columns, options);
}

/** The FilterError that compiling `text` throws; fails the test when it compiles. */
function filterError(text: string, known: ColumnInfo[] = columns): FilterError {
  try {
    compileFilter(text, known);
  } catch (error) {
    if (error instanceof FilterError) return error;
    throw error;
  }
  throw new Error(`expected ${JSON.stringify(text)} to be rejected`);
}

describe('comparisons', () => {
  it.each([
    ['=', '='],
    ['!=', '<>'],
    ['<>', '<>'],
    ['<', '<'],
    ['<=', '<='],
    ['>', '>'],
    ['>=', '>='],
  ])('compiles orders %s 3 to the SQL operator %s with the number as a parameter', (operator, sql) => {
    expect(compile(`orders ${operator} 3`)).toEqual({ sql: `"orders" ${sql} $1`, params: [3] });
  });

  it('binds a string literal as a parameter', () => {
    expect(compile("country = 'NL'")).toEqual({ sql: '"country" = $1', params: ['NL'] });
  });

  it("reads '' inside a string as one quote", () => {
    expect(compile("email = 'o''brien@example.com'").params).toEqual(["o'brien@example.com"]);
  });

  it('binds an empty string', () => {
    expect(compile("country = ''")).toEqual({ sql: '"country" = $1', params: [''] });
  });

  it('binds negative numbers and decimals as numbers', () => {
    expect(compile('lifetime_value > -12.50 and orders >= 0').params).toEqual([-12.5, 0]);
  });

  it('binds an integer beyond 2^53 as an exact bigint', () => {
    expect(compile('id = 12345678901234567890').params).toEqual([12345678901234567890n]);
  });

  it('needs no spaces around operators', () => {
    expect(compile("orders>=-2 and(country<>'NL')")).toEqual({
      sql: '("orders" >= $1 AND "country" <> $2)',
      params: [-2, 'NL'],
    });
  });

  it('accepts a number in quotes for a numeric column and binds it as a number', () => {
    expect(compile("orders = '42'")).toEqual({ sql: '"orders" = $1', params: [42] });
  });

  it('binds a bare number against a text column as its digits', () => {
    expect(compile('country = 0031')).toEqual({ sql: '"country" = $1', params: ['0031'] });
  });

  it('compares a BOOLEAN column with true and false', () => {
    expect(compile('vip = true or vip != FALSE')).toEqual({
      sql: '("vip" = $1 OR "vip" <> $2)',
      params: [true, false],
    });
  });

  it('lets a BOOLEAN column stand alone as a condition', () => {
    expect(compile('vip and not vip')).toEqual({ sql: '("vip" AND NOT ("vip"))', params: [] });
  });

  it('casts a string compared with a DATE column to DATE', () => {
    expect(compile("signup_date >= '2024-01-31'")).toEqual({
      sql: '"signup_date" >= CAST($1 AS DATE)',
      params: ['2024-01-31'],
    });
  });

  it('casts a string compared with a TIMESTAMP column to TIMESTAMP', () => {
    expect(compile("last_seen < '2024-03-01T08:30:00Z'")).toEqual({
      sql: '"last_seen" < CAST($1 AS TIMESTAMP)',
      params: ['2024-03-01T08:30:00Z'],
    });
  });

  it('casts to TIMESTAMPTZ and keeps the offset for a column with a time zone', () => {
    expect(compile("last_seen_tz > '2024-03-01 08:30:00+02:00'")).toEqual({
      sql: '"last_seen_tz" > CAST($1 AS TIMESTAMPTZ)',
      params: ['2024-03-01 08:30:00+02:00'],
    });
  });

  it('casts a string compared with a UUID column to UUID', () => {
    expect(compile("account_id = '0b6a0f4e-8f3c-4a55-9d8c-2f1e3c4d5e6f'").sql).toBe(
      '"account_id" = CAST($1 AS UUID)',
    );
  });

  it('numbers parameters from firstParam', () => {
    expect(compile("country = 'NL' and orders > 2", { firstParam: 4 })).toEqual({
      sql: '("country" = $4 AND "orders" > $5)',
      params: ['NL', 2],
    });
  });

  it('refuses a firstParam below 1 as a programming error', () => {
    expect(() => compile('vip', { firstParam: 0 })).toThrow(RangeError);
  });
});

describe('columns', () => {
  it('quotes a double-quoted column name with spaces', () => {
    expect(compile(`"first name" = 'Ann'`)).toEqual({ sql: '"first name" = $1', params: ['Ann'] });
  });

  it('matches column names case-insensitively and writes the real name', () => {
    expect(compile("EMAIL = 'a@b.nl'").sql).toBe('"email" = $1');
    expect(compile(`"First Name" is null`).sql).toBe('"first name" IS NULL');
  });

  it('prefers the exact spelling when two columns differ only in case', () => {
    const cased = [
      { name: 'Email', type: 'VARCHAR' },
      { name: 'email', type: 'VARCHAR' },
    ];
    expect(compileFilter("Email = 'x'", cased).sql).toBe('"Email" = $1');
    expect(compileFilter("email = 'x'", cased).sql).toBe('"email" = $1');
  });

  it('rejects a name that matches several columns only by case', () => {
    const cased = [
      { name: 'Email', type: 'VARCHAR' },
      { name: 'email', type: 'VARCHAR' },
    ];
    const error = filterError("EMAIL = 'x'", cased);
    expect(error.message).toBe(
      'Column EMAIL at position 0 matches Email and email, which differ only in case; write the exact name',
    );
  });

  it('doubles a double quote inside a column name in the SQL', () => {
    const odd = [{ name: 'say "hi"', type: 'VARCHAR' }];
    expect(compileFilter(`"say ""hi""" = 'x'`, odd).sql).toBe('"say ""hi""" = $1');
  });

  it('accepts a keyword as a column name when it is double-quoted', () => {
    const keywordColumns = [{ name: 'in', type: 'BOOLEAN' }];
    expect(compileFilter('"in"', keywordColumns).sql).toBe('"in"');
  });

  it('asks for double quotes around a name with letters outside A-Z', () => {
    expect(filterError("vip and prénom = 'x'").message).toBe(
      "Expected a column name of letters A-Z, digits and _ at position 8, found 'prénom'; " +
        'write other names in double quotes: "prénom"',
    );
    expect(compileFilter(`"prénom" = 'x'`, [{ name: 'prénom', type: 'VARCHAR' }]).sql).toBe('"prénom" = $1');
  });

  it('names an unknown column, its position and the closest known column', () => {
    const error = filterError("vip and emial like '%@x.nl'");
    expect(error.position).toBe(8);
    expect(error.message).toBe(
      'Unknown column emial at position 8; did you mean email? Known columns: id, email, country, ' +
        '"first name", orders, lifetime_value, vip, signup_date, last_seen, last_seen_tz, account_id, tags.',
    );
  });

  it('suggests a quoted name when the closest column needs quotes', () => {
    expect(filterError('firstname is null').message).toContain('did you mean "first name"?');
  });

  it('lists the known columns when nothing is close', () => {
    const error = filterError('zzz = 1', columns.slice(0, 3));
    expect(error.message).toBe('Unknown column zzz at position 0; known columns: id, email, country.');
  });

  it('shortens a long list of known columns', () => {
    const many = Array.from({ length: 30 }, (_, i) => ({ name: `c${i}`, type: 'VARCHAR' }));
    expect(filterError('zzzzzz = 1', many).message).toBe(
      'Unknown column zzzzzz at position 0; known columns: c0, c1, c2, c3, c4, c5, c6, c7, c8, c9 and 20 more.',
    );
  });

  it('says so when the entity has no columns', () => {
    expect(filterError('x = 1', []).message).toBe('Unknown column x at position 0; known columns: none.');
  });
});

describe('in, like and is null', () => {
  it('compiles in with every value as a parameter', () => {
    expect(compile("country in ('NL', 'BE', 'LU')")).toEqual({
      sql: '"country" IN ($1, $2, $3)',
      params: ['NL', 'BE', 'LU'],
    });
  });

  it('compiles not in', () => {
    expect(compile('orders NOT IN (1, 2)')).toEqual({ sql: '"orders" NOT IN ($1, $2)', params: [1, 2] });
  });

  it('casts every value of an in list on a DATE column', () => {
    expect(compile("signup_date in ('2024-01-01', '2024-02-01')").sql).toBe(
      '"signup_date" IN (CAST($1 AS DATE), CAST($2 AS DATE))',
    );
  });

  it('compiles like and not like with the pattern as a parameter', () => {
    expect(compile("email like '%@example.com' or email not like 'test%'")).toEqual({
      sql: '("email" LIKE $1 OR "email" NOT LIKE $2)',
      params: ['%@example.com', 'test%'],
    });
  });

  it('compiles is null and is not null without parameters', () => {
    expect(compile('tags is null and signup_date IS NOT NULL')).toEqual({
      sql: '("tags" IS NULL AND "signup_date" IS NOT NULL)',
      params: [],
    });
  });
});

describe('precedence and parentheses', () => {
  it('binds and tighter than or', () => {
    expect(compile("vip or country = 'NL' and orders > 1").sql).toBe('("vip" OR ("country" = $1 AND "orders" > $2))');
  });

  it('binds not tighter than and', () => {
    expect(compile("not vip and country = 'NL'").sql).toBe('(NOT ("vip") AND "country" = $1)');
  });

  it('lets parentheses group an or inside an and', () => {
    expect(compile("(vip or orders > 1) and country = 'NL'").sql).toBe(
      '(("vip" OR "orders" > $1) AND "country" = $2)',
    );
  });

  it('negates a whole parenthesised group', () => {
    expect(compile("not (vip or country = 'NL')").sql).toBe('NOT ("vip" OR "country" = $1)');
  });

  it('flattens a chain of the same operator', () => {
    expect(compile('vip and orders > 1 and orders < 9 and id != 0').sql).toBe(
      '("vip" AND "orders" > $1 AND "orders" < $2 AND "id" <> $3)',
    );
  });

  it('drops redundant parentheses', () => {
    expect(compile('((vip))').sql).toBe('"vip"');
  });

  it('numbers parameters in reading order across groups', () => {
    expect(compile("orders = 1 or (country = 'NL' and not (id = 3 or email like 'x%'))")).toEqual({
      sql: '("orders" = $1 OR ("country" = $2 AND NOT ("id" = $3 OR "email" LIKE $4)))',
      params: [1, 'NL', 3, 'x%'],
    });
  });

  it('reads keywords in any case', () => {
    expect(compile("NOT vip AnD country In ('NL') oR email LIKE 'a%' Or tags Is Not Null").sql).toBe(
      '((NOT ("vip") AND "country" IN ($1)) OR "email" LIKE $2 OR "tags" IS NOT NULL)',
    );
  });

  it('accepts newlines and tabs as spaces', () => {
    expect(compile("vip\n\tand country = 'NL'").sql).toBe('("vip" AND "country" = $1)');
  });
});

describe('SQL injection', () => {
  it.each([
    { payload: "'; drop table customers; --" },
    { payload: "x' or '1'='1" },
    { payload: '/* comment */ 1' },
    { payload: '-- comment' },
    { payload: '$1' },
    { payload: '"email"' },
    { payload: "\\'; select 1" },
    { payload: 'a\u0000b' },
  ])('binds the string $payload as a parameter and keeps it out of the SQL', ({ payload }) => {
    const literal = `'${payload.replaceAll("'", "''")}'`;
    expect(compile(`email = ${literal}`)).toEqual({ sql: '"email" = $1', params: [payload] });
  });

  it('binds a like pattern with quotes and semicolons as a parameter', () => {
    expect(compile("email like '%''; delete from x; --%'")).toEqual({
      sql: '"email" LIKE $1',
      params: ["%'; delete from x; --%"],
    });
  });

  it('rejects a semicolon outside a string', () => {
    const error = filterError("email = 'a'; drop table customers");
    expect(error.message).toBe("Expected 'and', 'or' or end of filter at position 11, found ';'");
  });

  it('rejects a -- comment outside a string', () => {
    expect(filterError("vip -- and email = 'x'").message).toBe(
      "Expected an operator (=, !=, <, <=, >, >=, in, like, is) after vip at position 4, found '-'",
    );
  });

  it('rejects a /* comment outside a string', () => {
    expect(filterError('vip /* x */').position).toBe(4);
  });

  it('rejects a double-quoted name that smuggles SQL as an unknown column', () => {
    const error = filterError(`"email"" = '' or 1=1; --" = 'x'`);
    expect(error.message).toMatch(/^Unknown column "email"" = '' or 1=1; --" at position 0; known columns:/);
  });

  it('rejects a quote that closes a string early', () => {
    expect(filterError("email = 'a'' or 1=1").message).toBe(
      "Expected a closing ' for the string that starts at position 8, found end of filter " +
        "(write '' for a quote inside a string)",
    );
  });

  it('rejects a column compared with another column instead of pasting it', () => {
    expect(filterError('orders = id').message).toBe(
      "Expected a value after '=' at position 9, found name id; " +
        'a filter compares a column with a value, not with another column',
    );
  });
});

describe('syntax errors', () => {
  it('rejects an empty filter', () => {
    expect(filterError('').message).toBe(
      'Expected a condition at position 0, found an empty filter; for example: id is not null',
    );
  });

  it('rejects a filter of only spaces', () => {
    expect(filterError('   ').position).toBe(3);
  });

  it('names the missing value after an operator at the end of the filter', () => {
    const error = filterError('order_count >=', [{ name: 'order_count', type: 'BIGINT' }]);
    expect(error.message).toBe("Expected a value after '>=' at position 14, found end of filter");
    expect(error.position).toBe(14);
  });

  it('points at the opening quote of an unterminated string', () => {
    const error = filterError("country = 'NL and vip");
    expect(error.position).toBe(10);
  });

  it('points at the opening quote of an unterminated column name', () => {
    const error = filterError('vip and "first name = 1');
    expect(error.message).toBe(
      'Expected a closing " for the column name that starts at position 8, found end of filter',
    );
  });

  it('rejects an empty double-quoted name', () => {
    expect(filterError('"" = 1').message).toBe(
      'Expected a column name inside the double quotes at position 0, found ""',
    );
  });

  it('rejects an unclosed parenthesis', () => {
    expect(filterError('(vip or orders > 1').message).toBe(
      "Expected ')' at position 18, found end of filter; the '(' at position 0 is not closed",
    );
  });

  it('rejects a closing parenthesis without an opening one', () => {
    expect(filterError('vip)').message).toBe(
      "Expected 'and', 'or' or end of filter at position 3, found ')'; this ')' has no matching '('",
    );
  });

  it('rejects a dangling and', () => {
    expect(filterError('vip and').message).toBe('Expected a column name at position 7, found end of filter');
  });

  it('rejects two conditions without and or or between them', () => {
    expect(filterError('vip orders > 1').message).toBe(
      'Expected an operator (=, !=, <, <=, >, >=, in, like, is) after vip at position 4, found name orders',
    );
  });

  it('explains that only a BOOLEAN column stands alone', () => {
    expect(filterError('email and vip').message).toBe(
      'Expected an operator (=, !=, <, <=, >, >=, in, like, is) after email at position 6, found \'and\'; ' +
        'only a BOOLEAN column can stand alone, and email is VARCHAR',
    );
  });

  it('rejects == with the position of the second =', () => {
    expect(filterError('orders == 1').message).toBe("Expected a value after '=' at position 8, found '='");
  });

  it('rejects a malformed number as one word', () => {
    expect(filterError('orders > 1.2.3').message).toBe("Expected a value after '>' at position 9, found '1.2.3'");
  });

  it('tells the user that text goes in single quotes', () => {
    expect(filterError('country = "NL"').message).toBe(
      "Expected a value after '=' at position 10, found name \"NL\"; text goes in single quotes: 'NL'",
    );
  });

  it('tells the user that column names go in double quotes', () => {
    expect(filterError("'country' = 'NL'").message).toBe(
      "Expected a column name at position 0, found string 'country'; " +
        'column names go in double quotes, not single quotes: country',
    );
  });

  it('rejects an empty in list', () => {
    expect(filterError('orders in ()').message).toBe(
      "Expected at least one value inside 'in (…)' at position 11, found ')'; an empty list matches nothing",
    );
  });

  it('rejects a trailing comma in an in list', () => {
    expect(filterError('orders in (1, )').message).toBe("Expected a value after ',' at position 14, found ')'");
  });

  it('rejects in without parentheses', () => {
    expect(filterError('orders in 1').message).toBe("Expected '(' after 'in' at position 10, found number 1");
  });

  it('suggests is null for = null', () => {
    const error = filterError('email = null');
    expect(error.message).toBe(
      "Expected a value after '=' at position 8, found 'null'; nothing equals null, write email is null",
    );
    expect(error.position).toBe(8);
  });

  it('suggests is not null for != null', () => {
    expect(filterError('email != NULL').message).toContain('write email is not null');
  });

  it('rejects null inside an in list', () => {
    expect(filterError("country in ('NL', null)").message).toContain('nothing equals null, write country is null');
  });

  it('rejects is followed by something other than null', () => {
    expect(filterError('vip is true').message).toBe(
      "Expected 'null' or 'not null' after 'is' at position 7, found 'true'; write vip = true",
    );
  });

  it('rejects not after a column unless in or like follows', () => {
    expect(filterError('orders not between 1').message).toBe(
      "Expected 'in' or 'like' after 'not' at position 11, found name between",
    );
  });

  it('describes an invisible character by its code point', () => {
    expect(filterError('vip\u0007').message).toBe(
      "Expected an operator (=, !=, <, <=, >, >=, in, like, is) after vip at position 3, found character U+0007",
    );
  });

  it('refuses nesting deeper than 100 levels instead of overflowing the stack', () => {
    const error = filterError(`${'('.repeat(500)}vip${')'.repeat(500)}`);
    expect(error.message).toBe(
      "The filter nests 'not' and parentheses more than 100 levels deep at position 100; simplify it",
    );
    expect(compile(`${'not '.repeat(100)}vip`).sql).toBe(`${'NOT ('.repeat(100)}"vip"${')'.repeat(100)}`);
  });

  it('is a ConfigError with the code invalid_filter', () => {
    const error = filterError('');
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.code).toBe('invalid_filter');
    expect(error.name).toBe('FilterError');
  });
});

describe('type errors', () => {
  it('rejects a non-numeric string for a numeric column', () => {
    const error = filterError("orders > 'many'");
    expect(error.message).toBe("Expected a number for orders (INTEGER) at position 9, found string 'many'");
    expect(error.position).toBe(9);
  });

  it('rejects like on a numeric column at the like keyword', () => {
    const error = filterError("vip and orders like '1%'");
    expect(error.message).toBe(
      "Expected a text column before 'like' at position 15, found orders (INTEGER); 'like' only matches text, " +
        'use =, <, > or in for other columns',
    );
    expect(error.position).toBe(15);
  });

  it('rejects a non-string like pattern', () => {
    expect(filterError('email like 5').message).toBe(
      "Expected a pattern in single quotes after 'like' at position 11, found number 5",
    );
  });

  it('rejects true for a text column', () => {
    expect(filterError('country = true').message).toBe(
      "Expected text in single quotes for country (VARCHAR) at position 10, found 'true'",
    );
  });

  it('rejects a string for a BOOLEAN column', () => {
    expect(filterError("vip = 'yes'").message).toBe(
      "Expected true or false for vip (BOOLEAN) at position 6, found string 'yes'",
    );
  });

  it('rejects a number for a DATE column', () => {
    expect(filterError('signup_date > 2024').message).toBe(
      "Expected a date 'YYYY-MM-DD' for signup_date (DATE) at position 14, found number 2024",
    );
  });

  it('rejects an impossible date', () => {
    expect(filterError("signup_date = '2024-02-30'").position).toBe(14);
  });

  it('rejects a non-UTC offset for a TIMESTAMP column, which DuckDB would silently drop', () => {
    expect(filterError("last_seen > '2024-03-01 08:30:00+02:00'").message).toBe(
      "Expected a timestamp 'YYYY-MM-DD HH:MM:SS' for last_seen (TIMESTAMP) at position 12, " +
        "found string '2024-03-01 08:30:00+02:00'; the column has no time zone, so write UTC with Z or no offset",
    );
  });

  it('rejects a malformed UUID', () => {
    expect(filterError("account_id = 'abc'").message).toBe(
      "Expected a UUID in single quotes for account_id (UUID) at position 13, found string 'abc'",
    );
  });

  it('allows only is null on a list column', () => {
    expect(filterError("tags = 'a'").message).toBe(
      'Column tags (VARCHAR[]) at position 0 cannot be compared with a value; test it only with is null or is not null',
    );
  });

  it('checks every value in an in list', () => {
    expect(filterError("orders in (1, 'two')").position).toBe(14);
  });

  it('shortens a long string in the message', () => {
    expect(filterError(`orders = '${'x'.repeat(100)}'`).message).toBe(
      `Expected a number for orders (INTEGER) at position 9, found string '${'x'.repeat(29)}…'`,
    );
  });
});

describe('formatFilterError', () => {
  it('puts a caret under the position', () => {
    const text = "orders > 'many'";
    expect(formatFilterError(text, filterError(text))).toBe("orders > 'many'\n         ^");
  });

  it('puts the caret after the last character for an error at the end', () => {
    const text = 'orders >=';
    expect(formatFilterError(text, filterError(text))).toBe('orders >=\n         ^');
  });

  it('keeps tabs in the caret line so it lines up', () => {
    const text = "\tvip and\temial = 'x'";
    expect(formatFilterError(text, filterError(text))).toBe("\tvip and\temial = 'x'\n\t       \t^");
  });

  it('shows only the offending line of a multi-line filter, labelled', () => {
    const text = "vip\nand country = 'NL'\nand orders > 'x'";
    expect(formatFilterError(text, filterError(text))).toBe("line 3: and orders > 'x'\n                     ^");
  });

  it('cuts a long line around the caret', () => {
    const text = `${"country = 'NL' and ".repeat(10)}orders > 'x' and ${"country = 'NL' and ".repeat(10)}vip`;
    const [line, caret] = formatFilterError(text, filterError(text)).split('\n') as [string, string];
    expect(line.startsWith('…')).toBe(true);
    expect(line.endsWith('…')).toBe(true);
    expect(line.length).toBe(102);
    expect(line.slice(caret.indexOf('^'))).toMatch(/^'x' and /);
  });
});

/** Runs a compiled filter against the four test customers; returns the matching ids. */
type Runner = { setup(): Promise<void>; ids(text: string, options?: { firstParam?: number }, prefix?: { sql: string; params: unknown[] }): Promise<number[]>; close(): Promise<void> };

const ROWS = [
  [1, 'ann@example.com', 'NL', 'Ann', 5, '120.50', true, '2024-01-15', '2024-03-01 10:00:00', '2024-03-01 10:00:00+00', '0b6a0f4e-8f3c-4a55-9d8c-2f1e3c4d5e6f', ['a']],
  [2, 'bob@test.org', 'BE', 'Bob', 0, '0.00', false, '2023-06-01', '2023-12-31 23:59:59', '2023-12-31 23:59:59+00', null, null],
  [3, "o'brien@example.com", 'NL', null, 12, '999.99', null, null, null, null, null, []],
  [4, null, 'DE', 'Dee', 2, '35.00', false, '2024-02-29', '2024-02-29 12:00:00', '2024-02-29 12:00:00+00', null, ['b', 'c']],
] as const;

function duckDbRunner(): Runner {
  let instance: DuckDBInstance;
  let connection: DuckDBConnection;
  return {
    async setup() {
      instance = await DuckDBInstance.create(':memory:');
      connection = await instance.connect();
      await connection.run(`
        CREATE TABLE customer (
          id BIGINT, email VARCHAR, country VARCHAR, "first name" VARCHAR, orders INTEGER,
          lifetime_value DECIMAL(18,2), vip BOOLEAN, signup_date DATE, last_seen TIMESTAMP,
          last_seen_tz TIMESTAMPTZ, account_id UUID, tags VARCHAR[]
        )`);
      await connection.run(`
        INSERT INTO customer VALUES
          (1, 'ann@example.com', 'NL', 'Ann',   5, 120.50, true,  DATE '2024-01-15', TIMESTAMP '2024-03-01 10:00:00',
            TIMESTAMPTZ '2024-03-01 10:00:00+00', '0b6a0f4e-8f3c-4a55-9d8c-2f1e3c4d5e6f', ['a']),
          (2, 'bob@test.org',    'BE', 'Bob',   0,   0.00, false, DATE '2023-06-01', TIMESTAMP '2023-12-31 23:59:59',
            TIMESTAMPTZ '2023-12-31 23:59:59+00', NULL, NULL),
          (3, 'o''brien@example.com', 'NL', NULL, 12, 999.99, NULL, NULL, NULL, NULL, NULL, []),
          (4, NULL,              'DE', 'Dee',   2,  35.00, false, DATE '2024-02-29', TIMESTAMP '2024-02-29 12:00:00',
            TIMESTAMPTZ '2024-02-29 12:00:00+00', NULL, ['b', 'c'])`);
    },
    async ids(text, options, prefix) {
      const { sql, params } = compileFilter(text, columns, options);
      const reader = await connection.runAndReadAll(`SELECT id FROM customer WHERE ${prefix ? `${prefix.sql} AND ` : ''}${sql} ORDER BY id`, [
        ...((prefix?.params ?? []) as DuckDBValue[]),
        ...(params as DuckDBValue[]),
      ]);
      return reader.getRowObjects().map((row) => Number(row.id));
    },
    async close() {
      connection?.closeSync();
      instance?.closeSync();
    },
  };
}

function postgresRunner(): Runner {
  const schema = uniqueSchema('filter');
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  return {
    async setup() {
      await client.connect();
      await client.query(`CREATE SCHEMA "${schema}"`);
      await client.query(`SET search_path = "${schema}"; SET TimeZone = 'UTC'`);
      await client.query(`
        CREATE TABLE customer (
          id bigint, email text, country text, "first name" text, orders integer,
          lifetime_value numeric(18,2), vip boolean, signup_date date, last_seen timestamp,
          last_seen_tz timestamptz, account_id uuid, tags text[]
        )`);
      for (const row of ROWS) await client.query(`INSERT INTO customer VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`, [...row]);
    },
    async ids(text, options, prefix) {
      const { sql, params } = toPostgresFilter(compileFilter(text, columns, options), options?.firstParam);
      const result = await client.query(`SELECT id FROM customer WHERE ${prefix ? `${prefix.sql} AND ` : ''}${sql} ORDER BY id`, [...(prefix?.params ?? []), ...params]);
      return result.rows.map((row: { id: string }) => Number(row.id));
    },
    async close() {
      await client.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => {});
      await client.end();
    },
  };
}

// The same filters, the same rows, the same answers on both profile stores.
describe.each([
  ['DuckDB', duckDbRunner],
  ['PostgreSQL', postgresRunner],
] as const)('in %s', (backend, makeRunner) => {
  const runner = makeRunner();
  beforeAll(() => runner.setup());
  afterAll(() => runner.close());
  const matchingIds = (text: string, options?: { firstParam?: number }) => runner.ids(text, options);

  it('runs every construct with bound parameters and returns the expected rows', async () => {
    const cases: Array<[string, number[]]> = [
      ["country = 'NL'", [1, 3]],
      ["country <> 'NL'", [2, 4]],
      ['orders >= 2 and orders < 12', [1, 4]],
      ["lifetime_value > '100'", [1, 3]],
      ['lifetime_value <= 35', [2, 4]],
      ['id = 12345678901234567890', []],
      ["email like '%@example.com'", [1, 3]],
      ["email not like '%@example.com'", [2]],
      ["email = 'o''brien@example.com'", [3]],
      ["country in ('BE', 'DE')", [2, 4]],
      ['orders not in (0, 12)', [1, 4]],
      ['email is null', [4]],
      ['"first name" is not null and tags is not null', [1, 4]],
      ['vip', [1]],
      ['vip = false', [2, 4]],
      ['not vip', [2, 4]],
      ["signup_date >= '2024-01-01'", [1, 4]],
      ["signup_date in ('2023-06-01', '2024-02-29')", [2, 4]],
      ["last_seen < '2024-01-01T00:00:00Z'", [2]],
      ["last_seen_tz >= '2024-03-01 12:00:00+02:00'", [1]],
      ["account_id = '0B6A0F4E-8F3C-4A55-9D8C-2F1E3C4D5E6F'", [1]],
      ["vip or country = 'DE' and orders > 1", [1, 4]],
      ["(vip or country = 'DE') and not orders > 3", [4]],
      ["not (country = 'NL' or email is null)", [2]],
      ["email = ''';drop table customer;--'", []],
    ];
    const results: Array<[string, number[]]> = [];
    for (const [text] of cases) results.push([text, await matchingIds(text)]);
    expect(results).toEqual(cases);
    expect(await matchingIds('id > 0')).toEqual([1, 2, 3, 4]);
  });

  it(`accepts only date and time texts that ${backend} can cast`, async () => {
    const accepted = [
      "signup_date = '2024-02-29'",
      "last_seen > '2024-03-01'",
      "last_seen > '2024-03-01 10:00'",
      "last_seen > '2024-03-01T10:00:00.123456'",
      "last_seen > '2024-03-01 10:00:00Z'",
      "last_seen > '2024-03-01 10:00:00+00:00'",
      "last_seen_tz > '2024-03-01 10:00:00-05:30'",
      "last_seen_tz > '2024-03-01T10:00:00.5+02'",
      "account_id = '0b6a0f4e8f3c4a559d8c2f1e3c4d5e6f'",
    ];
    for (const text of accepted) expect(await matchingIds(text)).toEqual(expect.any(Array));
    const rejected = [
      "last_seen_tz > '2024-03-01 10:00+02:00'",
      "last_seen > '2024-03-01 24:00'",
      "signup_date = '2024-1-5'",
    ];
    for (const text of rejected) expect(() => compile(text)).toThrow(FilterError);
  });

  it('binds parameters after ones the caller already placed when firstParam is set', async () => {
    expect(await runner.ids("country = 'NL' and orders > 1", { firstParam: 2 }, { sql: 'id >= $1', params: [2] })).toEqual([3]);
  });
});
