import { describe, expect, it } from 'vitest';
import { csvField, csvRow } from './csv.ts';

describe('csv', () => {
  it('quotes only what needs quoting and doubles quotes inside', () => {
    expect(csvField('plain')).toBe('plain');
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField('cr\rhere')).toBe('"cr\rhere"');
    expect(csvField(' padded ')).toBe('" padded "');
    expect(csvField('')).toBe('');
    expect(csvField(null)).toBe('');
    expect(csvField(42)).toBe('42');
  });

  it('defuses spreadsheet formulas but leaves numbers alone', () => {
    expect(csvField('=HYPERLINK("http://evil","x")')).toBe(`"'=HYPERLINK(""http://evil"",""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField('+33 6 12')).toBe("'+33 6 12");
    expect(csvField('-5')).toBe('-5');
    expect(csvField('+1.5')).toBe('+1.5');
  });

  it('ends rows with CRLF', () => {
    expect(csvRow(['k1', 'gold', 'invalid_email', 'no @, no domain'])).toBe('k1,gold,invalid_email,"no @, no domain"\r\n');
  });
});
