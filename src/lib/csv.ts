/**
 * RFC 4180 CSV for the few small CSVs Outflow writes itself (rejection lists); the big exports are written by
 * DuckDB's COPY. Twenty lines we can read in full beat a dependency: a field is quoted when it holds the
 * delimiter, a quote, CR or LF, or edge spaces, and quotes inside are doubled.
 *
 * People open these files in spreadsheets, and record keys and vendors' reasons are outside data: a text
 * that a spreadsheet would run as a formula (starting with = + - @ TAB or CR) gets a leading `'`, OWASP's
 * CSV-injection defence, as the SFTP export's `formulaEscaping: "quote"` does. A plain number such as -5 is
 * not a formula and stays as it is. https://owasp.org/www-community/attacks/CSV_Injection
 */
export function csvField(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text) && !/^[+-]?\d+(\.\d+)?$/.test(text)) text = `'${text}`;
  return /[",\r\n]|^\s|\s$/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** One CSV line, CRLF-terminated as RFC 4180 asks. */
export function csvRow(values: Array<string | number | null | undefined>): string {
  return `${values.map(csvField).join(',')}\r\n`;
}
