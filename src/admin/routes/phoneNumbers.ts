import type { FastifyInstance } from 'fastify';
import { phoneNumberSchema } from '../../domain/model.js';
import { phoneNumberView } from '../views.js';
import { registerResource, type ResourceContext } from './resource.js';

/**
 * /v1/phone-numbers: one record per E.164 number. A number registered twice is a 409
 * `number_already_imported`; references to agents and trunks are checked by the catalog (422).
 */
export function registerPhoneNumberRoutes(app: FastifyInstance, ctx: ResourceContext): void {
  const { catalog } = ctx;
  registerResource(
    app,
    {
      kind: 'number',
      path: '/v1/phone-numbers',
      noun: 'phone number',
      component: 'PhoneNumber',
      schema: phoneNumberSchema,
      view: phoneNumberView,
      get: (id) => catalog.getNumber(id),
      create: (value) => catalog.createNumber(value),
      replace: (id, build) => catalog.replaceNumber(id, build),
      remove: (id) => catalog.deleteNumber(id),
      writeErrors: [422],
    },
    ctx,
  );
}
