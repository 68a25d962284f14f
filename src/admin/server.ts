import Fastify, { type FastifyInstance } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';
import type { Catalog } from '../stores/catalog.js';
import { bearerChecker } from './auth.js';
import { ApiError, bodyTooLarge, jsonTooDeep, toApiError } from './errors.js';
import { findExcessDepth } from './jsonDepth.js';
import { adminRequestCounter, methodLabel } from './metrics.js';
import { OpenApiCollector } from './openapi.js';
import { registerAgentRoutes } from './routes/agents.js';
import { OPS_PATHS, registerOpsRoutes, type Health } from './routes/ops.js';
import { registerPhoneNumberImport } from './routes/phoneNumberImport.js';
import { registerPhoneNumberRoutes } from './routes/phoneNumbers.js';
import { registerTrunkRoutes } from './routes/trunks.js';

export type { Health, HealthCheck, Readiness } from './routes/ops.js';
export type { RouteDoc } from './openapi.js';
export { ApiError } from './errors.js';

/**
 * Extra routes registered by other parts of the edge (route dry-run, active calls). Each runs in
 * its own encapsulated scope with the same bearer auth, error format and OpenAPI collection as the
 * core routes; it registers full paths (e.g. `/v1/calls`) and documents a route with
 * `config: { openapi: RouteDoc }`. Throw ApiError / CatalogError / ZodError for error answers.
 */
export type AdminPlugin = (app: FastifyInstance) => Promise<void> | void;

export interface AdminDeps {
  readonly config: Config['admin'];
  readonly catalog: Catalog;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly health: Health;
  readonly plugins?: readonly AdminPlugin[];
  /** paths plugins serve without a token (static pages that ask for the token themselves) */
  readonly publicPaths?: readonly string[];
}

const isBodyTooLarge = (err: unknown): boolean => (err as { code?: unknown } | null)?.code === 'FST_ERR_CTP_BODY_TOO_LARGE';

/** Builds the admin HTTP API; the caller listens and closes it. */
export function createAdminServer(deps: AdminDeps): FastifyInstance {
  // Paths served without a token; every other path, unknown ones included, needs the bearer token.
  const publicPaths: ReadonlySet<string> = new Set([...OPS_PATHS, ...(deps.publicPaths ?? [])]);
  const isPublic = (url: string | undefined): boolean => url !== undefined && publicPaths.has(url);
  const app = Fastify({ logger: false, onProtoPoisoning: 'error', onConstructorPoisoning: 'error', bodyLimit: deps.config.body_limit_bytes });
  const docs = new OpenApiCollector({ title: 'sip-edge admin API', version: '1' }, (url) => isPublic(url));
  const requests = adminRequestCounter(deps.metrics.registry);
  const checkToken = bearerChecker(deps.config.token);

  app.addHook('onRoute', docs.onRoute);

  // A JSON API: no text/plain bodies; merge patches may say so in their media type (RFC 7396). An
  // empty body is "no body" (clients send content-type on DELETE too); schemas refuse it where needed.
  // The nesting depth is checked in one flat scan before JSON.parse builds anything: a deeply
  // nested body would otherwise take the parser seconds and overflow the stack of what follows.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  const maxDepth = deps.config.json_max_depth;
  app.removeContentTypeParser(['text/plain', 'application/json']);
  app.addContentTypeParser(['application/json', 'application/merge-patch+json'], { parseAs: 'string' }, (req, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text === '') return done(null, undefined);
    const tooDeep = findExcessDepth(text, maxDepth);
    if (tooDeep) return done(jsonTooDeep(maxDepth, tooDeep.path), undefined);
    parseJson(req, text, done);
  });

  app.addHook('onRequest', async (req, reply) => {
    if (isPublic(req.routeOptions.url)) return;
    const verdict = checkToken(req.headers.authorization);
    if (verdict === 'ok') return;
    reply.header('www-authenticate', 'Bearer realm="sip-edge-admin"');
    throw new ApiError(401, 'unauthorized', verdict === 'missing' ? 'a bearer token is required (Authorization: Bearer <token>)' : 'the bearer token is not valid');
  });

  app.addHook('onResponse', async (req, reply) => {
    requests.inc({ method: methodLabel(req.method), route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });

  app.setErrorHandler((err, req, reply) => {
    const api = isBodyTooLarge(err)
      ? bodyTooLarge(req.routeOptions.bodyLimit ?? deps.config.body_limit_bytes, req.routeOptions.config?.bodyLimitSetting ?? 'admin.body_limit_bytes')
      : toApiError(err);
    // One line per refused or failed request; never the body (it may carry passwords).
    const line = { req_id: req.id, method: req.method, route: req.routeOptions.url ?? 'unmatched', status: api.status, code: api.code };
    if (api.status >= 500) deps.logger.error({ ...line, err }, 'admin request failed');
    else deps.logger.info(line, `admin request refused: ${api.message}`);
    return reply.code(api.status).send(api.toBody());
  });

  app.setNotFoundHandler(async (req) => {
    throw new ApiError(404, 'not_found', `no route ${req.method} ${req.url.split('?')[0]}`);
  });

  registerOpsRoutes(app, { health: deps.health, registry: deps.metrics.registry, docs, logger: deps.logger });
  const resources = { catalog: deps.catalog, pageSizeMax: deps.config.page_size_max };
  registerTrunkRoutes(app, resources);
  registerAgentRoutes(app, resources);
  registerPhoneNumberRoutes(app, resources);
  registerPhoneNumberImport(app, { catalog: deps.catalog, maxRows: deps.config.import_max_rows, maxBytes: deps.config.import_body_limit_bytes });

  for (const plugin of deps.plugins ?? []) {
    void app.register(async (scope) => {
      await plugin(scope);
    });
  }
  return app;
}
