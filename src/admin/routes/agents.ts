import type { FastifyInstance } from 'fastify';
import { agentSchema } from '../../domain/model.js';
import { agentView } from '../views.js';
import { registerResource, type ResourceContext } from './resource.js';

/** /v1/agents: the AI agents' SIP endpoints, one workspace each. */
export function registerAgentRoutes(app: FastifyInstance, ctx: ResourceContext): void {
  const { catalog } = ctx;
  registerResource(
    app,
    {
      kind: 'agent',
      path: '/v1/agents',
      noun: 'agent',
      component: 'Agent',
      schema: agentSchema,
      view: agentView,
      get: (id) => catalog.getAgent(id),
      create: (value) => catalog.createAgent(value),
      replace: (id, build) => catalog.replaceAgent(id, build),
      remove: (id) => catalog.deleteAgent(id),
    },
    ctx,
  );
}
