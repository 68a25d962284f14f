import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { tailBilling } from '../billing/consumer.js';
import { ConfigError, loadConfig } from '../config/load.js';
import { redisKeys } from '../stores/keys.js';
import { createRedis, whenReady } from '../stores/redis.js';

const USAGE = `usage: npm run billing:tail -- [--group NAME] [--consumer NAME] [--from-start] [--once]

Reads the billing event stream, every shard of it (configured as for the edge: SIP_EDGE_CONFIG +
environment) as one consumer of a consumer group, prints each event as one JSON line on stdout and acknowledges it.

  --group NAME     consumer group (default "billing-tail"); created if missing
  --consumer NAME  consumer name within the group (default <hostname>-<pid>)
  --from-start     a group created now starts at the oldest entry (default: new events only)
  --once           exit when no new event arrives for --block ms (default: run until Ctrl-C)
  --block MS       how long one read waits (default 5000)
  --count N        entries per read (default 100)
`;

/** The example a billing team starts from: consumer group, pending entries first, XACK after handling. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      group: { type: 'string', default: 'billing-tail' },
      consumer: { type: 'string', default: `${hostname()}-${process.pid}` },
      'from-start': { type: 'boolean', default: false },
      once: { type: 'boolean', default: false },
      block: { type: 'string', default: '5000' },
      count: { type: 'string', default: '100' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
  const blockMs = Number(values.block);
  const count = Number(values.count);
  if (!Number.isInteger(blockMs) || blockMs < 1 || !Number.isInteger(count) || count < 1) {
    throw new Error('--block and --count must be positive integers');
  }
  const config = loadConfig();
  // Reads block for up to blockMs: the command timeout must be longer than that.
  const redis = createRedis({ ...config.redis, command_timeout_ms: blockMs + 5000 }, 'billing-tail');
  redis.on('error', () => undefined);
  await whenReady(redis, 10_000);
  const streams = redisKeys(config.redis.key_prefix)
    .billingShards(config.billing.stream, config.billing.stream_shards)
    .map((s) => s.stream);
  process.stderr.write(`billing:tail: stream${streams.length > 1 ? 's' : ''} ${streams.join(', ')}, group ${values.group}, consumer ${values.consumer}\n`);

  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  const handled = await tailBilling(
    redis,
    streams,
    { group: values.group, consumer: values.consumer, fromStart: values['from-start'], blockMs, count, once: values.once },
    {
      event: (event) => process.stdout.write(`${JSON.stringify(event)}\n`),
      invalid: (id, problem) => process.stderr.write(`billing:tail: entry ${id} is not a valid billing event: ${problem}\n`),
    },
    abort.signal,
  );
  process.stderr.write(`billing:tail: ${handled} events\n`);
  redis.disconnect();
}

main().catch((err: unknown) => {
  process.stderr.write(`billing:tail: ${err instanceof ConfigError ? err.message : ((err as Error).stack ?? String(err))}\n`);
  process.exit(err instanceof ConfigError ? 2 : 1);
});
