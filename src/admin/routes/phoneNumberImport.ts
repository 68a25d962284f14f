import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Catalog } from '../../stores/catalog.js';
import { CatalogError } from '../../stores/catalogErrors.js';
import { ApiError, type FieldError } from '../errors.js';
import { CSV_COLUMNS, csvRows, jsonRows, locate, validateRows, type ImportSource } from '../importRows.js';
import { component, json } from '../openapi.js';
import { phoneNumberView } from '../views.js';

export interface ImportContext {
  readonly catalog: Catalog;
  readonly maxRows: number;
  /** largest body, JSON or CSV (admin.import_body_limit_bytes) */
  readonly maxBytes: number;
}

/** How many row errors one answer lists; the count says how many there were. */
const MAX_LISTED_ERRORS = 1000;

const CSV_TYPE = 'text/csv';

function source(req: FastifyRequest, maxRows: number): ImportSource {
  if (typeof req.body === 'string') return csvRows(req.body, maxRows);
  return jsonRows(req.body, maxRows);
}

/**
 * The answer to refused rows: 409 `number_already_imported` when every row was refused only for
 * that, else 422 `import_rejected`. Nothing was written in either case.
 */
function refusal(src: ImportSource, errors: readonly FieldError[]): ApiError {
  const located = [...errors].sort((a, b) => (a.row ?? 0) - (b.row ?? 0)).map((e) => locate(src, e));
  const onlyDuplicates = located.every((e) => e.code === 'number_already_imported');
  const rows = new Set(located.map((e) => e.row)).size;
  return new ApiError(
    onlyDuplicates ? 409 : 422,
    onlyDuplicates ? 'number_already_imported' : 'import_rejected',
    `${rows} of ${src.rows.length} row(s) refused; nothing was imported`,
    { errors: located.slice(0, MAX_LISTED_ERRORS), error_count: located.length },
  );
}

function catalogRowErrors(err: CatalogError): FieldError[] | null {
  const details = err.details as { errors?: unknown } | undefined;
  if (!details || !Array.isArray(details.errors)) return null;
  return (details.errors as FieldError[]).map((e) => ({ ...e, row: e.row ?? 0, field: e.field ?? '(row)' }));
}

/**
 * POST /v1/phone-numbers/import: all-or-nothing. Every row is validated first; only a request
 * without a single invalid row reaches the catalog, which checks duplicates and references and
 * writes all rows in one atomic step, or none.
 */
export function registerPhoneNumberImport(app: FastifyInstance, ctx: ImportContext): void {
  const bodyLimit = ctx.maxBytes;
  // Scoped to this plugin: CSV is accepted here and nowhere else.
  void app.register(async (scope) => {
    scope.addContentTypeParser(CSV_TYPE, { parseAs: 'string', bodyLimit }, (_req, body, done) => done(null, body));

    scope.post('/v1/phone-numbers/import', {
      bodyLimit,
      config: {
        bodyLimitSetting: 'admin.import_body_limit_bytes',
        openapi: {
          summary: 'Import many phone numbers at once (all or nothing)',
          description: `JSON (an array, or {"numbers": [...]}) or ${CSV_TYPE} with a header row of columns ${CSV_COLUMNS.join(', ')}. Every row is validated before anything is written; one refused row refuses the whole import and details.errors lists each refused row (row index from 0, field, code, message, and line for CSV).`,
          tags: ['phone-numbers'],
          operationId: 'importPhoneNumbers',
          body: {
            content: {
              'application/json': {
                oneOf: [
                  { type: 'array', items: component('PhoneNumberCreate') },
                  { type: 'object', properties: { numbers: { type: 'array', items: component('PhoneNumberCreate') } }, required: ['numbers'], additionalProperties: false },
                ],
              },
              [CSV_TYPE]: { type: 'string' },
            },
          },
          responses: {
            201: {
              description: 'Every row stored',
              content: json({
                type: 'object',
                properties: { imported: { type: 'integer' }, data: { type: 'array', items: component('PhoneNumber') } },
                required: ['imported', 'data'],
              }),
            },
          },
          errors: [400, 409, 413, 415, 422],
        },
      },
      handler: async (req, reply) => {
        const src = source(req, ctx.maxRows);
        if (src.rows.length === 0) throw new ApiError(400, 'invalid_request', 'the import has no rows', { errors: [{ field: '(body)', code: 'invalid_field', message: 'no rows' }] });
        const { numbers, errors } = validateRows(src);
        if (errors.length > 0) throw refusal(src, errors);
        try {
          const records = await ctx.catalog.importNumbers(numbers);
          return reply.code(201).send({ imported: records.length, data: records.map(phoneNumberView) });
        } catch (err) {
          const rowErrors = err instanceof CatalogError ? catalogRowErrors(err) : null;
          if (rowErrors) throw refusal(src, rowErrors);
          throw err;
        }
      },
    });
  });
}
