import { z } from 'zod';
import { CatalogError, type CatalogErrorKind } from '../stores/catalogErrors.js';

/** The one error body of the admin API: `{"error": {"code", "message", "details"}}`. */
export interface ErrorBody {
  readonly error: { readonly code: string; readonly message: string; readonly details: unknown };
}

/** One refused field; `row` only in bulk imports. */
export interface FieldError {
  readonly row?: number;
  readonly field: string;
  readonly code: string;
  readonly message: string;
}

/** An error the API answers as it is: status, stable code, message for humans, details for machines. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: unknown = null,
  ) {
    super(message);
    this.name = 'ApiError';
  }

  toBody(): ErrorBody {
    return { error: { code: this.code, message: this.message, details: this.details } };
  }
}

const ROOT_FIELD = '(body)';

/** "inbound.allowed_cidrs.0"; "(body)" for the document itself, or `root` when given ("query"). */
export function fieldPath(path: readonly PropertyKey[], root?: string): string {
  const parts = path.map((p) => String(p));
  if (root) return [root, ...parts].join('.');
  return parts.length === 0 ? ROOT_FIELD : parts.join('.');
}

/**
 * One entry per refused field. Unknown keys become one entry each, named after the key, so that
 * a client sees `inbound.foo: unknown field` rather than a message about its parent object.
 */
export function fieldErrors(error: z.ZodError, root?: string): FieldError[] {
  return error.issues.flatMap((issue): FieldError[] => {
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: fieldPath([...issue.path, key], root), code: 'unknown_field', message: 'unknown field' }));
    }
    return [{ field: fieldPath(issue.path, root), code: 'invalid_field', message: issue.message }];
  });
}

export function describeFieldErrors(errors: readonly FieldError[]): string {
  return errors.map((e) => `${e.row !== undefined ? `row ${e.row}: ` : ''}${e.field}: ${e.message}`).join('; ');
}

export function invalidRequest(errors: FieldError[]): ApiError {
  return new ApiError(400, 'invalid_request', describeFieldErrors(errors), { errors });
}

/** Parses with a zod schema; a refusal becomes a 400 that names every field. */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown, root?: string): z.output<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw invalidRequest(fieldErrors(result.error, root));
  return result.data;
}

export function catalogStatus(kind: CatalogErrorKind): number {
  switch (kind) {
    case 'not_found':
      return 404;
    case 'conflict':
      return 409;
    case 'unprocessable':
      return 422;
    default: {
      const never: never = kind;
      throw new Error(`unknown catalog error kind ${String(never)}`);
    }
  }
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the configuration key that sets this route's body limit, named in a 413 */
    bodyLimitSetting?: string;
  }
}

/** 413 for a body over its route's limit, naming the limit and the setting that raises it. */
export function bodyTooLarge(maxBytes: number, setting: string): ApiError {
  return new ApiError(413, 'payload_too_large', `the request body is larger than ${maxBytes} bytes (${setting})`, { max_bytes: maxBytes, setting });
}

/** 400 for a JSON body nested deeper than allowed; `field` is the value that goes too deep. */
export function jsonTooDeep(maxDepth: number, field: string): ApiError {
  const message = `nests objects/arrays deeper than ${maxDepth} levels (admin.json_max_depth)`;
  return new ApiError(400, 'json_too_deep', `${field}: ${message}`, { errors: [{ field, code: 'json_too_deep', message }], max_depth: maxDepth });
}

/** Errors fastify itself raises before a handler runs (body parsing, limits, media types). */
const FASTIFY_CODES: Readonly<Record<number, string>> = {
  400: 'invalid_request',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
};

function fastifyStatus(err: unknown): number | null {
  if (typeof err !== 'object' || err === null) return null;
  const status = (err as { statusCode?: unknown }).statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : null;
}

/** Every thrown thing, mapped to the status and body the client gets. Unknown errors are 500 and say nothing. */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof z.ZodError) return invalidRequest(fieldErrors(err));
  if (err instanceof CatalogError) return new ApiError(catalogStatus(err.kind), err.code, err.message, err.details ?? null);
  const status = fastifyStatus(err);
  if (status !== null) {
    const message = err instanceof Error ? err.message : 'request refused';
    const details = status === 400 ? { errors: [{ field: '(body)', code: 'malformed_body', message }] } : null;
    return new ApiError(status, FASTIFY_CODES[status] ?? 'request_refused', message, details);
  }
  return new ApiError(500, 'internal_error', 'internal error');
}
