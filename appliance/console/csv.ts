/**
 * CSV for spreadsheets. A cell that starts with `=`, `+`, `-`, `@`, tab or carriage return is read
 * as a formula by Excel and LibreOffice (CSV injection), so it is prefixed with `'`: guest-chosen
 * text such as a name or a RADIUS User-Name can never run in an operator's spreadsheet.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return '';
  if (typeof value !== 'string') return String(value);
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(safe) || safe !== safe.trim() ? `"${safe.replace(/"/g, '""')}"` : safe;
}

export function csvLine(values: ReadonlyArray<string | number | boolean | null | undefined>): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}
