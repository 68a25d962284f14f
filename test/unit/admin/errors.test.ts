import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ApiError, fieldErrors, toApiError } from '../../../src/admin/errors.js';
import { CatalogError } from '../../../src/stores/catalogErrors.js';

function zodError(schema: z.ZodType, value: unknown): z.ZodError {
  const result = schema.safeParse(value);
  if (result.success) throw new Error('expected a refusal');
  return result.error;
}

describe('toApiError', () => {
  it.each([
    ['a CatalogError not_found', new CatalogError('not_found', 'not_found', 'trunk x does not exist'), 404, 'not_found'],
    ['a CatalogError conflict', new CatalogError('conflict', 'number_already_imported', 'taken'), 409, 'number_already_imported'],
    ['a CatalogError unprocessable', new CatalogError('unprocessable', 'workspace_mismatch', 'other workspace'), 422, 'workspace_mismatch'],
    ['an ApiError', new ApiError(413, 'too_many_rows', 'too many'), 413, 'too_many_rows'],
    ['a fastify 400', Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }), 400, 'invalid_request'],
    ['a fastify 415', Object.assign(new Error('Unsupported Media Type'), { statusCode: 415 }), 415, 'unsupported_media_type'],
    ['a fastify 413', Object.assign(new Error('Request body is too large'), { statusCode: 413 }), 413, 'payload_too_large'],
    ['a plain Error', new Error('redis exploded with secret stuff'), 500, 'internal_error'],
    ['an error claiming a 5xx status', Object.assign(new Error('boom'), { statusCode: 503 }), 500, 'internal_error'],
    ['a thrown string', 'nope', 500, 'internal_error'],
  ])('maps %s to %i %s', (_name, err, status, code) => {
    const api = toApiError(err);
    expect(api.status).toBe(status);
    expect(api.code).toBe(code);
  });

  it('never passes the message of an unexpected error on', () => {
    expect(toApiError(new Error('redis exploded with secret stuff')).toBody()).toEqual({ error: { code: 'internal_error', message: 'internal error', details: null } });
  });

  it('turns a ZodError into a 400 naming every field path', () => {
    const schema = z.strictObject({ inbound: z.strictObject({ allowed_cidrs: z.array(z.string().refine(() => false, 'must be a CIDR')) }) });
    const api = toApiError(zodError(schema, { inbound: { allowed_cidrs: ['x'], extra: 1 }, top: 2 }));
    expect(api.status).toBe(400);
    expect(api.code).toBe('invalid_request');
    expect(api.message).toBe('inbound.allowed_cidrs.0: must be a CIDR; inbound.extra: unknown field; top: unknown field');
  });
});

describe('fieldErrors', () => {
  it('names the document itself "(body)" and prefixes a root when given', () => {
    expect(fieldErrors(zodError(z.object({}), 'text'))[0]?.field).toBe('(body)');
    expect(fieldErrors(zodError(z.object({ limit: z.number() }), { limit: 'x' }), 'query')[0]?.field).toBe('query.limit');
  });
});
