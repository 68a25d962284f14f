import { loadConfig } from '../config/load.js';
import { agentSchema, phoneNumberSchema, trunkSchema } from '../domain/model.js';
import { Catalog } from '../stores/catalog.js';
import { CatalogError } from '../stores/catalogErrors.js';
import { redisKeys } from '../stores/keys.js';
import { createRedis, whenReady } from '../stores/redis.js';

/**
 * Seeds a small demo into the configured Redis (idempotent): a trunk for loopback carriers,
 * one agent at sip:agent@127.0.0.1:5090 and the number +15550001001 routed to it.
 */
async function seed(): Promise<void> {
  const config = loadConfig();
  const redis = createRedis(config.redis, 'seed');
  await whenReady(redis, 10_000);
  const catalog = new Catalog(redis, redisKeys(config.redis.key_prefix));
  const created: string[] = [];
  const ignoreExisting = async (what: string, write: () => Promise<unknown>): Promise<void> => {
    try {
      await write();
      created.push(what);
    } catch (err) {
      if (!(err instanceof CatalogError && err.kind === 'conflict')) throw err;
    }
  };
  await ignoreExisting('trunk demo-carrier', () =>
    catalog.createTrunk(
      trunkSchema.parse({
        id: 'demo-carrier',
        name: 'Demo carrier on loopback',
        kind: 'managed',
        inbound: { allowed_cidrs: ['127.0.0.0/8', '::1/128'], transports: ['udp', 'tcp', 'tls'] },
      }),
    ),
  );
  await ignoreExisting('agent demo-agent', () =>
    catalog.createAgent(agentSchema.parse({ id: 'demo-agent', workspace_id: 'demo-workspace', name: 'Demo agent', sip_uri: 'sip:agent@127.0.0.1:5090' })),
  );
  await ignoreExisting('number +15550001001', () =>
    catalog.createNumber(
      phoneNumberSchema.parse({
        id: 'demo-number',
        phone_number: '+15550001001',
        workspace_id: 'demo-workspace',
        telephony: 'managed',
        trunk_id: 'demo-carrier',
        inbound_routing: { agent_id: 'demo-agent', voicemail_message: 'Sorry, nobody can take your call.' },
      }),
    ),
  );
  process.stdout.write(created.length > 0 ? `seeded: ${created.join(', ')}\n` : 'demo data already present\n');
  redis.disconnect();
}

seed().catch((err: unknown) => {
  process.stderr.write(`seed failed: ${(err as Error).message}\n`);
  process.exit(1);
});
