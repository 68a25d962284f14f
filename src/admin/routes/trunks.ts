import type { FastifyInstance } from 'fastify';
import { trunkSchema } from '../../domain/model.js';
import { trunkView } from '../views.js';
import { registerResource, type ResourceContext } from './resource.js';

/** /v1/trunks: carriers and BYOC trunks. Passwords are write-only (see views.ts). */
export function registerTrunkRoutes(app: FastifyInstance, ctx: ResourceContext): void {
  const { catalog } = ctx;
  registerResource(
    app,
    {
      kind: 'trunk',
      path: '/v1/trunks',
      noun: 'trunk',
      component: 'Trunk',
      schema: trunkSchema,
      view: trunkView,
      get: (id) => catalog.getTrunk(id),
      create: (value) => catalog.createTrunk(value),
      replace: (id, build) => catalog.replaceTrunk(id, build),
      remove: (id) => catalog.deleteTrunk(id),
      writeErrors: [422],
    },
    ctx,
  );
}
