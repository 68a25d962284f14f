import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Stamped } from '../../domain/model.js';
import { newId, type Catalog, type RecordOf } from '../../stores/catalog.js';
import { CatalogError, notFound } from '../../stores/catalogErrors.js';
import type { EntityKind } from '../../stores/keys.js';
import { invalidRequest, parseWith } from '../errors.js';
import { isJsonObject, mergePatch } from '../mergePatch.js';
import { component, json } from '../openapi.js';
import { listPage, listQuerySchema } from '../pagination.js';
import { withoutStamps } from '../views.js';

/** How one catalog resource is exposed: the same five routes for trunks, agents and numbers. */
export interface ResourceSpec<K extends EntityKind, T extends { id: string }, V> {
  readonly kind: K;
  /** "/v1/trunks" */
  readonly path: string;
  /** "trunk", for messages */
  readonly noun: string;
  /** OpenAPI component base name: "Trunk" -> Trunk, TrunkCreate, TrunkPatch, TrunkPage */
  readonly component: string;
  /** The full model schema; create bodies and merged patches are both validated with it. */
  readonly schema: z.ZodType<T>;
  view(record: RecordOf<K>): V;
  create(value: T): Promise<RecordOf<K>>;
  replace(id: string, build: (current: RecordOf<K>) => T): Promise<RecordOf<K>>;
  remove(id: string): Promise<void>;
  get(id: string): Promise<RecordOf<K> | null>;
  /** Extra error statuses of create/patch for the document (e.g. 422 for references). */
  readonly writeErrors?: readonly number[];
}

export interface ResourceContext {
  readonly catalog: Catalog;
  readonly pageSizeMax: number;
}

const idParams = z.strictObject({ id: z.string() });

/** A create body may leave `id` out; the server generates one. */
export function withGeneratedId(body: unknown, kind: EntityKind): unknown {
  return isJsonObject(body) && !('id' in body) ? { ...body, id: newId(kind) } : body;
}

export function registerResource<K extends EntityKind, T extends { id: string }, V>(
  app: FastifyInstance,
  spec: ResourceSpec<K, T, V>,
  ctx: ResourceContext,
): void {
  const tags = [spec.path.split('/').pop() ?? spec.noun];
  const item = `${spec.path}/:id`;
  const writeErrors = [400, ...(spec.writeErrors ?? [])];

  app.post(spec.path, {
    config: {
      openapi: {
        summary: `Create a ${spec.noun}`,
        tags,
        operationId: `create${spec.component}`,
        body: { content: json(component(`${spec.component}Create`)) },
        responses: { 201: { description: `The stored ${spec.noun}`, content: json(component(spec.component)) } },
        errors: [...writeErrors, 409],
      },
    },
    handler: async (req, reply) => {
      const value = parseWith(spec.schema, withGeneratedId(req.body, spec.kind));
      const record = await spec.create(value);
      return reply.code(201).header('location', `${spec.path}/${encodeURIComponent(record.id)}`).send(spec.view(record));
    },
  });

  app.get(spec.path, {
    config: {
      openapi: {
        summary: `List ${spec.noun}s in id order`,
        tags,
        operationId: `list${spec.component}s`,
        query: listQuerySchema,
        responses: { 200: { description: 'One page; follow next_cursor until it is null', content: json(component(`${spec.component}Page`)) } },
        errors: [400],
      },
    },
    handler: async (req) => {
      const query = parseWith(listQuerySchema, req.query, 'query');
      const page = await listPage(ctx.catalog, spec.kind, query, ctx.pageSizeMax);
      return { data: page.data.map((r) => spec.view(r)), next_cursor: page.next_cursor };
    },
  });

  app.get(item, {
    config: {
      openapi: {
        summary: `Get a ${spec.noun}`,
        tags,
        operationId: `get${spec.component}`,
        responses: { 200: { description: `The ${spec.noun}`, content: json(component(spec.component)) } },
        errors: [404],
      },
    },
    handler: async (req) => {
      const { id } = parseWith(idParams, req.params, 'path');
      const record = await spec.get(id);
      if (!record) throw notFound(spec.noun, id);
      return spec.view(record);
    },
  });

  app.patch(item, {
    config: {
      openapi: {
        summary: `Change a ${spec.noun} (JSON merge patch, RFC 7396)`,
        tags,
        operationId: `patch${spec.component}`,
        body: {
          content: {
            'application/merge-patch+json': component(`${spec.component}Patch`),
            'application/json': component(`${spec.component}Patch`),
          },
        },
        responses: { 200: { description: `The stored ${spec.noun}`, content: json(component(spec.component)) } },
        errors: [...writeErrors, 404, 409, 422],
      },
    },
    handler: async (req) => {
      const { id } = parseWith(idParams, req.params, 'path');
      const patch = req.body;
      if (!isJsonObject(patch)) {
        throw invalidRequest([{ field: '(body)', code: 'invalid_field', message: 'must be a JSON object (a merge patch)' }]);
      }
      if ('id' in patch && patch.id !== id) {
        throw new CatalogError('unprocessable', 'immutable_field', `the id of a ${spec.noun} cannot change`, { errors: [{ field: 'id', code: 'immutable_field', message: 'cannot change' }] });
      }
      // The merge runs inside the store's read-validate-write loop, against what is stored now.
      const record = await spec.replace(id, (current: RecordOf<K> & Stamped) => parseWith(spec.schema, mergePatch(withoutStamps(current), patch)));
      return spec.view(record);
    },
  });

  app.delete(item, {
    config: {
      openapi: {
        summary: `Delete a ${spec.noun}`,
        tags,
        operationId: `delete${spec.component}`,
        responses: { 204: { description: 'Deleted' } },
        errors: [404, 409],
      },
    },
    handler: async (req, reply) => {
      const { id } = parseWith(idParams, req.params, 'path');
      await spec.remove(id);
      return reply.code(204).send();
    },
  });
}
