import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { CountryCode } from 'libphonenumber-js';
import { z } from 'zod';
import { DNC_REASON_MAX, normaliseDncNumber, type DncEntry } from '../../domain/dnc.js';
import { workspaceIdSchema } from '../../domain/model.js';
import type { RedisDoNotCallList } from '../../stores/dnc.js';
import type { DncScope } from '../../stores/keys.js';
import { CsvError, CsvTooManyRecords, parseCsv } from '../csv.js';
import { ApiError, fieldErrors, invalidRequest, parseWith, type FieldError } from '../errors.js';
import { tooManyRows } from '../importRows.js';
import { json, type RouteDoc } from '../openapi.js';
import { DEFAULT_PAGE_SIZE } from '../pagination.js';

export interface DncRouteDeps {
  readonly list: RedisDoNotCallList;
  readonly defaultCountry: CountryCode | undefined;
  readonly pageSizeMax: number;
  readonly importMaxRows: number;
  readonly importMaxBytes: number;
}

const CSV_TYPE = 'text/csv';
const MAX_LISTED_ERRORS = 1000;

const reasonSchema = z.string().trim().max(DNC_REASON_MAX).nullable().optional();
export const dncAddSchema = z.strictObject({
  phone_number: z.string().min(1).max(64).describe('any notation libphonenumber reads; stored as E.164'),
  reason: reasonSchema.describe('why the number is listed (free text)'),
});
export const dncEntrySchema = z.object({
  phone_number: z.string().describe('E.164'),
  reason: z.string().nullable(),
  added_at: z.string(),
});
const dncCheckSchema = z.object({
  phone_number: z.string(),
  listed: z.boolean().describe('whether an outbound call to it would be refused with destination_opted_out'),
  listing: z.enum(['workspace', 'platform']).nullable().describe('which list holds it (the workspace list first)'),
  entry: dncEntrySchema.nullable(),
});
const pageSchema = z.object({ data: z.array(dncEntrySchema), next_cursor: z.string().nullable() });
const importResultSchema = z.object({ rows: z.number().int(), added: z.number().int(), already_listed: z.number().int() });
const listQuerySchema = z.strictObject({
  limit: z.coerce.number().int().min(1).optional().describe('page size; capped by the server (admin.page_size_max)'),
  cursor: z.string().min(1).max(64).optional().describe('next_cursor of the previous page'),
});
const workspaceParams = z.strictObject({ id: workspaceIdSchema });

/** The E.164 form of a number given in a path or a body; 400 naming the field when it is not one. */
function e164Of(raw: string, field: string, defaultCountry: CountryCode | undefined): string {
  const e164 = normaliseDncNumber(raw, defaultCountry);
  if (e164 === null) throw invalidRequest([{ field, code: 'invalid_phone_number', message: 'is not a phone number' }]);
  return e164;
}

interface Row {
  readonly value: unknown;
  readonly line?: number;
}

/** Import rows: JSON (an array of {phone_number, reason?} or of strings, or {"numbers": [...]}) or CSV with a header row. */
function importRows(req: FastifyRequest, maxRows: number): Row[] {
  if (typeof req.body === 'string') {
    let records;
    try {
      records = parseCsv(req.body, maxRows + 1);
    } catch (err) {
      if (err instanceof CsvTooManyRecords) throw tooManyRows(maxRows);
      if (err instanceof CsvError) throw invalidRequest([{ field: '(body)', code: 'malformed_csv', message: err.message }]);
      throw err;
    }
    const [header, ...data] = records;
    const columns = header?.fields.map((f) => f.trim().toLowerCase()) ?? [];
    const at = columns.indexOf('phone_number');
    if (at < 0) throw invalidRequest([{ field: '(body)', code: 'malformed_csv', message: 'the header row must name a phone_number column (and may name reason)' }]);
    const reasonAt = columns.indexOf('reason');
    return data.map((r) => ({ line: r.line, value: { phone_number: r.fields[at] ?? '', ...(reasonAt >= 0 && r.fields[reasonAt] ? { reason: r.fields[reasonAt] } : {}) } }));
  }
  const body = req.body as unknown;
  const items = Array.isArray(body) ? body : (body as { numbers?: unknown } | null)?.numbers;
  if (!Array.isArray(items)) throw invalidRequest([{ field: '(body)', code: 'invalid_field', message: 'must be an array, {"numbers": [...]}, or text/csv' }]);
  if (items.length > maxRows) throw tooManyRows(maxRows);
  return items.map((value) => ({ value: typeof value === 'string' ? { phone_number: value } : value }));
}

/** Every row checked before anything is written; one refused row refuses the import. */
function validateImport(rows: readonly Row[], defaultCountry: CountryCode | undefined): { phone_number: string; reason: string | null }[] {
  const errors: (FieldError & { line?: number })[] = [];
  const entries: { phone_number: string; reason: string | null }[] = [];
  rows.forEach((row, index) => {
    const where = { row: index, ...(row.line !== undefined ? { line: row.line } : {}) };
    const parsed = dncAddSchema.safeParse(row.value);
    if (!parsed.success) {
      errors.push(...fieldErrors(parsed.error).map((e) => ({ ...e, ...where, field: e.field === '(body)' ? '(row)' : e.field })));
      return;
    }
    const e164 = normaliseDncNumber(parsed.data.phone_number, defaultCountry);
    if (e164 === null) errors.push({ ...where, field: 'phone_number', code: 'invalid_phone_number', message: 'is not a phone number' });
    else entries.push({ phone_number: e164, reason: parsed.data.reason ?? null });
  });
  if (errors.length > 0) {
    throw new ApiError(422, 'import_rejected', `${new Set(errors.map((e) => e.row)).size} of ${rows.length} row(s) refused; nothing was listed`, {
      errors: errors.slice(0, MAX_LISTED_ERRORS),
      error_count: errors.length,
    });
  }
  return entries;
}

/**
 * One do-not-call list's routes under `base`: list (pages in E.164 order), add, check, remove,
 * bulk import. `scopeOf` reads the list from the path (a workspace's, or the platform's).
 */
function registerList(app: FastifyInstance, deps: DncRouteDeps, base: string, scopeOf: (req: FastifyRequest) => DncScope, what: string): void {
  const doc = (summary: string, extra: Omit<RouteDoc, 'summary' | 'tags'>) => ({ config: { openapi: { summary, tags: ['do-not-call'], ...extra } } });
  const numberOf = (req: FastifyRequest): string => e164Of((req.params as { number: string }).number, 'number', deps.defaultCountry);
  const checkOf = async (scope: DncScope, e164: string): Promise<z.infer<typeof dncCheckSchema>> => {
    const entry = await deps.list.get(scope, e164);
    if (entry) return { phone_number: e164, listed: true, listing: scope.kind, entry };
    if (scope.kind === 'workspace') {
      const platform = await deps.list.get({ kind: 'platform' }, e164);
      if (platform) return { phone_number: e164, listed: true, listing: 'platform', entry: platform };
    }
    return { phone_number: e164, listed: false, listing: null, entry: null };
  };

  app.get(base, doc(`List ${what}`, { query: listQuerySchema, responses: { 200: { description: 'One page, in E.164 order', content: json(pageSchema) } }, errors: [400] }), async (req) => {
    const scope = scopeOf(req);
    const query = parseWith(listQuerySchema, req.query, 'query');
    const limit = Math.min(query.limit ?? Math.min(DEFAULT_PAGE_SIZE, deps.pageSizeMax), deps.pageSizeMax);
    return deps.list.list(scope, query.cursor ?? null, limit);
  });

  app.post(
    base,
    doc(`Add a number to ${what}`, {
      body: { content: json(dncAddSchema) },
      responses: { 201: { description: 'Listed', content: json(dncEntrySchema) }, 200: { description: 'Already listed (the entry as it was)', content: json(dncEntrySchema) } },
      errors: [400],
    }),
    async (req, reply) => {
      const scope = scopeOf(req);
      const body = parseWith(dncAddSchema, req.body ?? {});
      const e164 = e164Of(body.phone_number, 'phone_number', deps.defaultCountry);
      const added = await deps.list.add(scope, [{ phone_number: e164, reason: body.reason ?? null }]);
      const entry = (await deps.list.get(scope, e164)) as DncEntry;
      return reply.code(added > 0 ? 201 : 200).send(entry);
    },
  );

  app.get(
    `${base}/:number`,
    doc(`Check a number against ${what}${what.includes('workspace') ? " and the platform's" : ''}`, {
      responses: { 200: { description: 'Whether calls to it are refused, and by which list', content: json(dncCheckSchema) } },
      errors: [400],
    }),
    async (req) => checkOf(scopeOf(req), numberOf(req)),
  );

  app.delete(`${base}/:number`, doc(`Remove a number from ${what}`, { responses: { 204: { description: 'Removed' } }, errors: [400, 404] }), async (req, reply) => {
    const scope = scopeOf(req);
    const e164 = numberOf(req);
    if (!(await deps.list.remove(scope, e164))) throw new ApiError(404, 'not_listed', `${e164} is not on ${what}`);
    return reply.code(204).send();
  });

  void app.register(async (scope) => {
    scope.addContentTypeParser(CSV_TYPE, { parseAs: 'string', bodyLimit: deps.importMaxBytes }, (_req, body, done) => done(null, body));
    scope.post(`${base}/import`, {
      bodyLimit: deps.importMaxBytes,
      config: {
        bodyLimitSetting: 'admin.import_body_limit_bytes',
        openapi: {
          summary: `Add many numbers to ${what} at once (all or nothing)`,
          description: `${CSV_TYPE} with a header row naming a phone_number column (and optionally reason), or JSON: an array of {phone_number, reason?} or of strings, or {"numbers": [...]}. Every row is checked first; one refused row refuses the import and details.errors lists each (row from 0, field, code, message, and line for CSV). Numbers already listed keep their entry.`,
          tags: ['do-not-call'],
          body: {
            content: {
              'application/json': { oneOf: [{ type: 'array', items: { oneOf: [{ type: 'string' }, { type: 'object' }] } }, { type: 'object', properties: { numbers: { type: 'array' } }, required: ['numbers'] }] },
              [CSV_TYPE]: { type: 'string' },
            },
          },
          responses: { 200: { description: 'Every row listed', content: json(importResultSchema) } },
          errors: [400, 413, 415, 422],
        },
      },
      handler: async (req) => {
        const listScope = scopeOf(req);
        const rows = importRows(req, deps.importMaxRows);
        if (rows.length === 0) throw invalidRequest([{ field: '(body)', code: 'invalid_field', message: 'no rows' }]);
        const entries = validateImport(rows, deps.defaultCountry);
        const added = await deps.list.add(listScope, entries);
        return { rows: rows.length, added, already_listed: new Set(entries.map((e) => e.phone_number)).size - added };
      },
    });
  });
}

/** /v1/workspaces/{id}/dnc and /v1/dnc (the platform's list, which applies to every workspace). */
export function registerDoNotCall(app: FastifyInstance, deps: DncRouteDeps): void {
  registerList(app, deps, '/v1/workspaces/:id/dnc', (req) => ({ kind: 'workspace', workspaceId: parseWith(workspaceParams, { id: (req.params as { id: string }).id }, 'path').id }), "a workspace's do-not-call list");
  registerList(app, deps, '/v1/dnc', () => ({ kind: 'platform' }), "the platform's do-not-call list");
}
