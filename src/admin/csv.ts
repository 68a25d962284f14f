/** One CSV record and the line of the file it starts on (1-based). */
export interface CsvRecord {
  readonly line: number;
  readonly fields: string[];
}

export class CsvError extends Error {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(`line ${line}: ${message}`);
    this.name = 'CsvError';
  }
}

export class CsvTooManyRecords extends Error {
  constructor(readonly max: number) {
    super(`more than ${max} records`);
    this.name = 'CsvTooManyRecords';
  }
}

/**
 * RFC 4180 records: comma-separated fields, double-quoted fields may hold commas, line breaks and
 * doubled quotes (""). Accepts CRLF and LF line ends, a leading UTF-8 BOM and a missing final line
 * break; skips blank lines. A quote inside an unquoted field, text after a closing quote or an
 * unterminated quote is an error, not a guess. Stops with CsvTooManyRecords past `maxRecords`.
 */
export function parseCsv(text: string, maxRecords = Number.POSITIVE_INFINITY): CsvRecord[] {
  const records: CsvRecord[] = [];
  const input = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  let line = 1;
  let recordLine = 1;
  let fields: string[] = [];
  let field = '';
  let i = 0;

  const endRecord = (): void => {
    fields.push(field);
    field = '';
    const blank = fields.length === 1 && fields[0] === '';
    if (!blank) {
      if (records.length >= maxRecords) throw new CsvTooManyRecords(maxRecords);
      records.push({ line: recordLine, fields });
    }
    fields = [];
  };

  while (i < input.length) {
    const c = input[i]!;
    if (c === '"' && field === '') {
      // quoted field: runs to the next quote that is not doubled
      const startLine = line;
      i++;
      let closed = false;
      while (i < input.length) {
        const q = input[i]!;
        if (q === '"') {
          if (input[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        if (q === '\n') line++;
        field += q;
        i++;
      }
      if (!closed) throw new CsvError(startLine, 'unterminated quoted field');
      const next = input[i];
      if (next !== undefined && next !== ',' && next !== '\n' && next !== '\r') {
        throw new CsvError(line, 'unexpected text after a closing quote');
      }
      if (next === ',') {
        fields.push(field);
        field = '';
        i++;
      }
      continue;
    }
    if (c === '"') throw new CsvError(line, 'a field containing quotes must be quoted (use "" inside quotes)');
    if (c === ',') {
      fields.push(field);
      field = '';
      i++;
      continue;
    }
    if (c === '\r' || c === '\n') {
      i += c === '\r' && input[i + 1] === '\n' ? 2 : 1;
      endRecord();
      line++;
      recordLine = line;
      continue;
    }
    field += c;
    i++;
  }
  if (field !== '' || fields.length > 0) endRecord();
  return records;
}
