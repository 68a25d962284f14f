import type { RouteOptions } from 'fastify';
import { z } from 'zod';
import { agentSchema, phoneNumberSchema, trunkSchema } from '../domain/model.js';

/** A JSON Schema object as it appears in the document. */
export type JsonSchema = { [key: string]: unknown };
/** A zod schema (converted), a JSON Schema, or a reference made with `component()`. */
export type SchemaSource = z.ZodType | JsonSchema;

export interface BodyDoc {
  readonly description?: string;
  /** media type -> schema */
  readonly content: Readonly<Record<string, SchemaSource>>;
}

export interface ResponseDoc {
  readonly description: string;
  readonly content?: Readonly<Record<string, SchemaSource>>;
}

/**
 * What a route says about itself for the OpenAPI document, given as `config: { openapi }` on the
 * route. Plugins document their routes the same way; a route without it is listed bare.
 */
export interface RouteDoc {
  readonly summary: string;
  readonly description?: string;
  readonly tags?: readonly string[];
  readonly operationId?: string;
  readonly query?: z.ZodObject;
  readonly body?: BodyDoc;
  readonly responses: Readonly<Record<number, ResponseDoc>>;
  /** Error statuses the route answers besides 401/500 (every one with the Error body). */
  readonly errors?: readonly number[];
}

declare module 'fastify' {
  interface FastifyContextConfig {
    openapi?: RouteDoc;
  }
}

export const component = (name: string): JsonSchema => ({ $ref: `#/components/schemas/${name}` });
export const json = (schema: SchemaSource): Readonly<Record<string, SchemaSource>> => ({ 'application/json': schema });

function toJson(schema: SchemaSource, io: 'input' | 'output'): JsonSchema {
  if (!(schema instanceof z.ZodType)) return schema;
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: 'any', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
}

const asObject = (value: unknown): JsonSchema => (typeof value === 'object' && value !== null ? (value as JsonSchema) : {});

function withoutRequired(schema: JsonSchema, ...names: string[]): JsonSchema {
  const required = Array.isArray(schema.required) ? (schema.required as string[]).filter((r) => !names.includes(r)) : [];
  const { required: _old, ...rest } = schema;
  return required.length > 0 ? { ...rest, required } : rest;
}

const STAMPS: JsonSchema = {
  created_at: { type: 'string', format: 'date-time', readOnly: true },
  updated_at: { type: 'string', format: 'date-time', readOnly: true },
};

function stamped(schema: JsonSchema): JsonSchema {
  const required = Array.isArray(schema.required) ? (schema.required as string[]) : [];
  return { ...schema, properties: { ...asObject(schema.properties), ...STAMPS }, required: [...required, 'created_at', 'updated_at'] };
}

/** A trunk as returned: passwords replaced by `auth_password_set`. */
function trunkOut(): JsonSchema {
  const base = toJson(trunkSchema, 'output');
  const props = { ...asObject(base.properties) };
  for (const side of ['inbound', 'outbound']) {
    const sideSchema = asObject(props[side]);
    const { auth_password: _pw, ...sideProps } = asObject(sideSchema.properties);
    props[side] = {
      ...withoutRequired(sideSchema, 'auth_password'),
      properties: { ...sideProps, auth_password_set: { type: 'boolean', description: 'whether a password is stored (it is never returned)' } },
      required: [...(Array.isArray(sideSchema.required) ? (sideSchema.required as string[]).filter((r) => r !== 'auth_password') : []), 'auth_password_set'],
    };
  }
  return stamped({ ...base, properties: props });
}

/** A create body: the model's input schema, `id` optional (generated when missing). */
const createBody = (schema: z.ZodType): JsonSchema => withoutRequired(toJson(schema, 'input'), 'id');

/** A JSON merge patch (RFC 7396) of a resource: any subset of its fields; null removes a field. */
function patchBody(name: string, schema: z.ZodType): JsonSchema {
  const input = toJson(schema, 'input');
  return {
    description: `JSON merge patch (RFC 7396) of a ${name}: objects merge, null removes a field (its default applies), arrays replace. The merged result must be a valid ${name}; id cannot change.`,
    type: 'object',
    properties: input.properties,
    additionalProperties: false,
  };
}

const page = (item: string): JsonSchema => ({
  type: 'object',
  properties: { data: { type: 'array', items: component(item) }, next_cursor: { type: ['string', 'null'] } },
  required: ['data', 'next_cursor'],
  additionalProperties: false,
});

function coreComponents(): Record<string, JsonSchema> {
  return {
    Error: {
      type: 'object',
      properties: {
        error: {
          type: 'object',
          properties: {
            code: { type: 'string', description: 'stable machine-readable code, e.g. invalid_request, number_already_imported' },
            message: { type: 'string' },
            details: { description: 'machine-readable details; field errors as {errors: [{row?, field, code, message}]}' },
          },
          required: ['code', 'message', 'details'],
        },
      },
      required: ['error'],
    },
    Trunk: trunkOut(),
    TrunkCreate: createBody(trunkSchema),
    TrunkPatch: patchBody('trunk', trunkSchema),
    TrunkPage: page('Trunk'),
    Agent: stamped(toJson(agentSchema, 'output')),
    AgentCreate: createBody(agentSchema),
    AgentPatch: patchBody('agent', agentSchema),
    AgentPage: page('Agent'),
    PhoneNumber: stamped(toJson(phoneNumberSchema, 'output')),
    PhoneNumberCreate: createBody(phoneNumberSchema),
    PhoneNumberPatch: patchBody('phone number', phoneNumberSchema),
    PhoneNumberPage: page('PhoneNumber'),
  };
}

const DOC_KEYS: ReadonlySet<string> = new Set(['summary', 'description', 'tags', 'operationId', 'query', 'body', 'responses', 'errors']);

/**
 * Route config is not type-checked against RouteDoc (fastify infers it), so a misspelt key would be
 * silently left out of the document: refuse it when the route is registered instead.
 */
function checkDoc(route: RouteOptions): void {
  const doc: unknown = route.config?.openapi;
  if (doc === undefined) return;
  const unknown = typeof doc === 'object' && doc !== null ? Object.keys(doc).filter((k) => !DOC_KEYS.has(k)) : ['(not an object)'];
  if (unknown.length > 0) {
    throw new Error(`route ${String(route.method)} ${route.url}: config.openapi has keys RouteDoc does not know: ${unknown.join(', ')}`);
  }
}

const STATUS_TEXT: Readonly<Record<number, string>> = {
  400: 'Malformed JSON or a field refused by the schema (the field path is named)',
  401: 'Missing or wrong bearer token',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict with what is stored',
  413: 'Too large',
  415: 'Unsupported media type',
  422: 'Refused: a reference or rule the stored data does not satisfy',
  500: 'Internal error',
  503: 'Unavailable',
};

interface CollectedRoute {
  readonly method: string;
  readonly url: string;
  readonly doc: RouteDoc | undefined;
}

/**
 * Builds the OpenAPI 3.1 document from the routes as they are registered (an `onRoute` hook), so
 * every route appears, plugins' included, and documented ones carry schemas derived from zod.
 */
export class OpenApiCollector {
  private readonly routes: CollectedRoute[] = [];
  private cached: JsonSchema | null = null;

  constructor(
    private readonly info: { title: string; version: string },
    private readonly isPublic: (url: string) => boolean,
  ) {}

  readonly onRoute = (route: RouteOptions): void => {
    checkDoc(route);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    for (const method of methods) {
      // HEAD mirrors GET (fastify adds it by itself); the document lists the GET.
      if (method === 'HEAD') continue;
      this.routes.push({ method: method.toLowerCase(), url: route.url, doc: route.config?.openapi });
    }
    this.cached = null;
  };

  document(): JsonSchema {
    this.cached ??= this.build();
    return this.cached;
  }

  private build(): JsonSchema {
    const paths: Record<string, Record<string, unknown>> = {};
    for (const route of [...this.routes].sort((a, b) => a.url.localeCompare(b.url))) {
      const path = route.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
      paths[path] ??= {};
      paths[path][route.method] = this.operation(route);
    }
    return {
      openapi: '3.1.0',
      info: this.info,
      jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
      security: [{ bearerAuth: [] }],
      paths,
      components: {
        securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } },
        schemas: coreComponents(),
      },
    };
  }

  private operation(route: CollectedRoute): JsonSchema {
    const doc = route.doc;
    const isPublic = this.isPublic(route.url);
    const parameters = [
      ...[...route.url.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
      ...Object.entries(asObject(doc?.query ? toJson(doc.query, 'input').properties : {})).map(([name, schema]) => ({
        name,
        in: 'query',
        required: false,
        schema,
      })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, response] of Object.entries(doc?.responses ?? { 200: { description: 'OK' } })) {
      responses[status] = {
        description: response.description,
        ...(response.content ? { content: this.content(response.content, 'output') } : {}),
      };
    }
    const errors = new Set<number>([...(doc?.errors ?? []), ...(isPublic ? [] : [401]), 500]);
    for (const status of [...errors].sort((a, b) => a - b)) {
      responses[String(status)] = { description: STATUS_TEXT[status] ?? 'Error', content: { 'application/json': { schema: component('Error') } } };
    }
    return {
      summary: doc?.summary ?? `${route.method.toUpperCase()} ${route.url}`,
      ...(doc?.description ? { description: doc.description } : {}),
      ...(doc?.operationId ? { operationId: doc.operationId } : {}),
      ...(doc?.tags ? { tags: doc.tags } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(doc?.body ? { requestBody: { required: true, ...(doc.body.description ? { description: doc.body.description } : {}), content: this.content(doc.body.content, 'input') } } : {}),
      responses,
      ...(isPublic ? { security: [] } : {}),
    };
  }

  private content(content: Readonly<Record<string, SchemaSource>>, io: 'input' | 'output'): JsonSchema {
    return Object.fromEntries(Object.entries(content).map(([type, schema]) => [type, { schema: toJson(schema, io) }]));
  }
}
