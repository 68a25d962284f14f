import { z } from 'zod';
import { phoneNumberSchema, type PhoneNumber } from '../domain/model.js';
import { newId } from '../stores/catalog.js';
import { parseCsv, CsvError, CsvTooManyRecords } from './csv.js';
import { ApiError, fieldErrors, invalidRequest, type FieldError } from './errors.js';
import { isJsonObject } from './mergePatch.js';

/** The CSV columns of a bulk import; the routing ones fold into `inbound_routing`. */
export const CSV_COLUMNS = [
  'phone_number',
  'workspace_id',
  'telephony',
  'provider',
  'trunk_id',
  'status',
  'agent_id',
  'friendly_name',
  'inbound_agent_id',
  'fallback_agent_id',
  'voicemail_message',
  'verified',
  'id',
] as const;
type Column = (typeof CSV_COLUMNS)[number];
const KNOWN: ReadonlySet<string> = new Set(CSV_COLUMNS);

/** One candidate row: what the client sent (as an object) and, for CSV, the line it starts on. */
export interface ImportRow {
  readonly value: unknown;
  readonly line?: number;
}

export interface ImportSource {
  readonly format: 'json' | 'csv';
  readonly rows: ImportRow[];
}

export const importEnvelopeSchema = z.strictObject({ numbers: z.array(z.unknown()) });

/** A JSON import: an array of numbers, or `{"numbers": [...]}`. */
export function jsonRows(body: unknown, maxRows: number): ImportSource {
  let items: unknown[];
  if (Array.isArray(body)) items = body;
  else if (isJsonObject(body)) {
    const envelope = importEnvelopeSchema.safeParse(body);
    if (!envelope.success) throw invalidRequest(fieldErrors(envelope.error));
    items = envelope.data.numbers;
  } else {
    throw invalidRequest([{ field: '(body)', code: 'invalid_field', message: 'must be an array of phone numbers or {"numbers": [...]}' }]);
  }
  if (items.length > maxRows) throw tooManyRows(maxRows);
  return { format: 'json', rows: items.map((value) => ({ value })) };
}

const BOOLEANS: Readonly<Record<string, boolean>> = { true: true, false: false, '1': true, '0': false, yes: true, no: false };

/** A CSV import: a header row naming columns from CSV_COLUMNS, then one number per record. */
export function csvRows(text: string, maxRows: number): ImportSource {
  let records;
  try {
    records = parseCsv(text, maxRows + 1);
  } catch (err) {
    if (err instanceof CsvTooManyRecords) throw tooManyRows(maxRows);
    if (err instanceof CsvError) throw invalidRequest([{ field: '(body)', code: 'malformed_csv', message: err.message }]);
    throw err;
  }
  const [header, ...data] = records;
  if (!header) throw invalidRequest([{ field: '(body)', code: 'malformed_csv', message: 'no header row' }]);
  const columns = header.fields.map((f) => f.trim());
  const problems: FieldError[] = [];
  columns.forEach((name, i) => {
    if (!KNOWN.has(name)) problems.push({ field: name || `(column ${i + 1})`, code: 'unknown_column', message: `unknown column; expected some of ${CSV_COLUMNS.join(', ')}` });
    else if (columns.indexOf(name) !== i) problems.push({ field: name, code: 'duplicate_column', message: 'column appears twice' });
  });
  if (problems.length > 0) throw invalidRequest(problems);

  const rows = data.map((record): ImportRow => {
    if (record.fields.length !== columns.length) {
      return { line: record.line, value: new WrongWidth(record.fields.length, columns.length) };
    }
    const cells = new Map<Column, string>();
    columns.forEach((name, i) => {
      const cell = record.fields[i]!;
      if (cell !== '') cells.set(name as Column, cell);
    });
    return { line: record.line, value: csvRecordToNumber(cells) };
  });
  return { format: 'csv', rows };
}

/** Marks a CSV record whose field count differs from the header's. */
class WrongWidth {
  constructor(
    readonly got: number,
    readonly expected: number,
  ) {}
}

function csvRecordToNumber(cells: Map<Column, string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const name of ['id', 'phone_number', 'workspace_id', 'telephony', 'provider', 'trunk_id', 'status', 'agent_id', 'friendly_name'] as const) {
    const cell = cells.get(name);
    if (cell !== undefined) out[name] = cell;
  }
  const verified = cells.get('verified');
  if (verified !== undefined) out.verified = BOOLEANS[verified.trim().toLowerCase()] ?? verified;
  const agent = cells.get('inbound_agent_id');
  const fallback = cells.get('fallback_agent_id');
  const voicemail = cells.get('voicemail_message');
  if (agent !== undefined || fallback !== undefined || voicemail !== undefined) {
    out.inbound_routing = {
      ...(agent !== undefined ? { agent_id: agent } : {}),
      ...(fallback !== undefined ? { fallback: { agent_id: fallback } } : {}),
      ...(voicemail !== undefined ? { voicemail_message: voicemail } : {}),
    };
  }
  return out;
}

/** Model field paths back to the CSV column a client wrote them in. */
export function csvField(field: string): string {
  if (field === 'inbound_routing.fallback.agent_id' || field === 'inbound_routing.fallback') return 'fallback_agent_id';
  if (field === 'inbound_routing.voicemail_message') return 'voicemail_message';
  if (field.startsWith('inbound_routing')) return 'inbound_agent_id';
  return field;
}

/** Names a refused field the way the client wrote it, with the CSV line when there is one. */
export function locate(source: ImportSource, error: FieldError): FieldError & { line?: number } {
  const row = error.row ?? 0;
  const line = source.rows[row]?.line;
  return source.format === 'csv' ? { ...error, row, field: csvField(error.field), ...(line !== undefined ? { line } : {}) } : { ...error, row };
}

/** Validates every row with the model schema; ids are generated for rows without one. */
export function validateRows(source: ImportSource): { numbers: PhoneNumber[]; errors: FieldError[] } {
  const numbers: PhoneNumber[] = [];
  const errors: FieldError[] = [];
  source.rows.forEach((row, index) => {
    if (row.value instanceof WrongWidth) {
      errors.push({ row: index, field: '(row)', code: 'invalid_row', message: `has ${row.value.got} fields, the header has ${row.value.expected}` });
      return;
    }
    const value = isJsonObject(row.value) && !('id' in row.value) ? { ...row.value, id: newId('number') } : row.value;
    const result = phoneNumberSchema.safeParse(value);
    if (result.success) numbers.push(result.data);
    else errors.push(...fieldErrors(result.error).map((e) => ({ ...e, row: index, field: e.field === '(body)' ? '(row)' : e.field })));
  });
  return { numbers, errors };
}

export function tooManyRows(max: number): ApiError {
  return new ApiError(413, 'too_many_rows', `an import takes at most ${max} rows`, { max_rows: max });
}
