/**
 * Test data of the load and bench commands: one carrier trunk for the SIPp carrier's address,
 * 10 workspaces x 10 agents (all at the SIPp agent), and N numbers, each routed to a primary and a
 * fallback agent of its workspace. Number i is a valid US number, so the DID step does its real work.
 */
import { randomInt } from 'node:crypto';
import type { Redis } from 'ioredis';
import { writeFileSync } from 'node:fs';
import type { Agent, PhoneNumber, PhoneNumberRecord, Trunk } from '../../src/domain/model.js';
import { agentSchema, phoneNumberSchema, trunkSchema } from '../../src/domain/model.js';
import { Catalog } from '../../src/stores/catalog.js';
import { CatalogError } from '../../src/stores/catalogErrors.js';
import type { RedisKeys } from '../../src/stores/keys.js';
import type { RedisClient } from '../../src/stores/redis.js';

export const TRUNK_ID = 'bench-carrier';
export const WORKSPACES = 10;
export const AGENTS_PER_WORKSPACE = 10;
/** The caller of every SIPp call: a valid US number, as carriers send it. */
export const CALLER = '+14152371234';

const AREA_CODES = [212, 213, 312, 415, 503, 617, 646, 702, 718, 919];
/** Numbers the scheme can name: 10 area codes x 100 exchanges x 10,000 lines. */
export const MAX_NUMBERS = AREA_CODES.length * 100 * 10_000;

/** The i-th number: +1 <area> <exchange 200..299> <line>. */
export function numberAt(i: number): string {
  if (!Number.isInteger(i) || i < 0 || i >= MAX_NUMBERS) throw new RangeError(`number index ${i} out of 0..${MAX_NUMBERS - 1}`);
  const area = AREA_CODES[i % AREA_CODES.length]!;
  const rest = Math.floor(i / AREA_CODES.length);
  const exchange = 200 + (rest % 100);
  const line = Math.floor(rest / 100);
  return `+1${area}${exchange}${String(line).padStart(4, '0')}`;
}

const agentId = (a: number): string => `bench-agent-${a}`;
const workspaceOf = (a: number): string => `bench-ws-${Math.floor(a / AGENTS_PER_WORKSPACE)}`;

export function benchTrunk(carrierIp: string): Trunk {
  return trunkSchema.parse({
    id: TRUNK_ID,
    name: 'Bench carrier (SIPp)',
    kind: 'managed',
    inbound: { allowed_cidrs: [`${carrierIp}/32`], transports: ['udp', 'tcp'], media_encryption: 'allowed' },
    // generous limits, so the limits step runs its full check on every call
    limits: { max_concurrent_calls: 1_000_000, max_cps: 100_000 },
  });
}

export function benchAgents(agentUri: string): Agent[] {
  return Array.from({ length: WORKSPACES * AGENTS_PER_WORKSPACE }, (_, a) =>
    agentSchema.parse({ id: agentId(a), workspace_id: workspaceOf(a), name: `Bench agent ${a}`, sip_uri: agentUri }),
  );
}

/** The i-th number record as the admin API or the catalog would take it. */
export function benchNumber(i: number): PhoneNumber {
  const a = i % (WORKSPACES * AGENTS_PER_WORKSPACE);
  const ws = Math.floor(a / AGENTS_PER_WORKSPACE);
  const fallback = ws * AGENTS_PER_WORKSPACE + ((a + 1) % AGENTS_PER_WORKSPACE);
  return {
    id: `bench-num-${i}`,
    phone_number: numberAt(i),
    friendly_name: '',
    workspace_id: workspaceOf(a),
    telephony: 'managed',
    provider: 'platform',
    trunk_id: null,
    status: 'active',
    agent_id: null,
    inbound_routing: { agent_id: agentId(a), fallback: { agent_id: agentId(fallback) }, voicemail_message: i % 2 === 0 ? 'Please leave a message.' : null },
    verified: false,
  };
}

async function createOrReplace<T>(create: () => Promise<T>, replace: () => Promise<T>): Promise<T> {
  try {
    return await create();
  } catch (err) {
    if (err instanceof CatalogError && err.kind === 'conflict') return replace();
    throw err;
  }
}

/** Trunk and agents through the catalog (the admin API's own write path); idempotent. */
export async function seedRoutingThroughCatalog(catalog: Catalog, carrierIp: string, agentUri: string): Promise<void> {
  const trunk = benchTrunk(carrierIp);
  await createOrReplace(() => catalog.createTrunk(trunk), () => catalog.replaceTrunk(trunk.id, () => trunk));
  for (const agent of benchAgents(agentUri)) {
    await createOrReplace(() => catalog.createAgent(agent), () => catalog.replaceAgent(agent.id, () => agent));
  }
}

/**
 * Writes numbers 0..count-1 straight into Redis with the key layout and JSON of Catalog.importNumbers
 * (number record by E.164, id -> E.164, the id index, the agents' reference sets), pipelined in
 * chunks: 1M numbers in seconds rather than the minute the guarded Lua import takes. Run it
 * before the edge starts (no invalidations are published). Returns the milliseconds it took.
 */
export async function seedNumbersDirect(redis: RedisClient, keys: RedisKeys, count: number, onProgress?: (done: number) => void): Promise<number> {
  const started = Date.now();
  const stamp = new Date().toISOString();
  const chunk = 10_000;
  // The schema fills nothing in on a complete record: proves the records below are complete.
  const probe = phoneNumberSchema.parse(benchNumber(0));
  if (JSON.stringify(probe) !== JSON.stringify(benchNumber(0))) throw new Error('benchNumber() is not a complete phone number record');
  const writeChunk = async (from: number): Promise<void> => {
    const to = Math.min(count, from + chunk);
    const kv: string[] = [];
    const ids: (string | number)[] = [];
    const refs = new Map<string, string[]>();
    for (let i = from; i < to; i++) {
      const record: PhoneNumberRecord = { ...benchNumber(i), created_at: stamp, updated_at: stamp };
      kv.push(keys.number(record.phone_number), JSON.stringify(record), keys.numberId(record.id), record.phone_number);
      ids.push(0, record.id);
      const agents = new Set([record.agent_id, record.inbound_routing?.agent_id, record.inbound_routing?.fallback?.agent_id].filter((x): x is string => typeof x === 'string'));
      for (const a of agents) {
        const key = keys.refs('agent', a);
        let members = refs.get(key);
        if (!members) refs.set(key, (members = []));
        members.push(record.id);
      }
    }
    const pipeline = (redis as Redis).pipeline();
    pipeline.mset(...kv);
    pipeline.zadd(keys.index('number'), ...ids);
    for (const [key, members] of refs) pipeline.sadd(key, ...members);
    const results = await pipeline.exec();
    const failed = results?.find(([err]) => err);
    if (failed) throw failed[0];
  };
  // A few chunks in flight: Redis applies one while this process builds the next.
  let next = 0;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const from = next;
      next += chunk;
      await writeChunk(from);
      done += Math.min(chunk, count - from);
      onProgress?.(done);
    }
  };
  await Promise.all(Array.from({ length: 3 }, worker));
  return Date.now() - started;
}

/** Numbers dialled by one step: `count` indices of 0..total-1 from `offset` of a fixed shuffle. */
export function dialPlan(total: number, seed = 1): { slice(offset: number, count: number): number[] } {
  // A full permutation of 1M indices is 8 MB: fine. xorshift keeps it reproducible per seed.
  const order = new Uint32Array(total);
  for (let i = 0; i < total; i++) order[i] = i;
  let x = seed >>> 0 || 1;
  const rand = (n: number): number => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
  for (let i = total - 1; i > 0; i--) {
    const j = rand(i + 1);
    const t = order[i]!;
    order[i] = order[j]!;
    order[j] = t;
  }
  return {
    slice: (offset, count) => Array.from({ length: count }, (_, k) => order[(offset + k) % total]!),
  };
}

/** SIPp injection file: SEQUENTIAL, then one dialled number per line. */
export function writeNumbersFile(path: string, indices: readonly number[]): void {
  writeFileSync(path, `SEQUENTIAL\n${indices.map((i) => `${numberAt(i)};`).join('\n')}\n`);
}

/** `count` distinct random indices in 0..total-1. */
export function randomIndices(total: number, count: number): number[] {
  const seen = new Set<number>();
  while (seen.size < Math.min(count, total)) seen.add(randomInt(total));
  return [...seen];
}

export type AdminApi = (path: string, init?: { method?: string; body?: unknown }) => Promise<{ status: number; body: any }>;

async function putThroughApi(api: AdminApi, collection: string, record: { id: string }): Promise<void> {
  const created = await api(collection, { body: record });
  if (created.status === 201) return;
  if (created.status !== 409) throw new Error(`POST ${collection} ${record.id}: ${created.status} ${JSON.stringify(created.body)}`);
  const { id: _id, ...patch } = record;
  const patched = await api(`${collection}/${encodeURIComponent(record.id)}`, { method: 'PATCH', body: patch });
  if (patched.status !== 200) throw new Error(`PATCH ${collection}/${record.id}: ${patched.status} ${JSON.stringify(patched.body)}`);
}

/**
 * Seeds through the admin HTTP API, as an operator would: trunk and agents (created, or patched to
 * this run's addresses), then numbers 0..count-1 by bulk import in chunks. A chunk already imported
 * by an earlier run (409 number_already_imported) is left as it is. Returns the milliseconds it took.
 */
export async function seedThroughAdminApi(
  api: AdminApi,
  o: { carrierIp: string; agentUri: string; count: number; chunk?: number; onProgress?: (done: number) => void },
): Promise<number> {
  const started = Date.now();
  await putThroughApi(api, '/v1/trunks', benchTrunk(o.carrierIp));
  for (const agent of benchAgents(o.agentUri)) await putThroughApi(api, '/v1/agents', agent);
  const chunk = o.chunk ?? 1_000;
  for (let from = 0; from < o.count; from += chunk) {
    const rows = Array.from({ length: Math.min(chunk, o.count - from) }, (_, k) => benchNumber(from + k));
    const res = await api('/v1/phone-numbers/import', { body: rows });
    if (res.status !== 201 && !(res.status === 409 && res.body?.error?.code === 'number_already_imported')) {
      throw new Error(`import of numbers ${from}..${from + rows.length - 1}: ${res.status} ${JSON.stringify(res.body).slice(0, 500)}`);
    }
    o.onProgress?.(from + rows.length);
  }
  return Date.now() - started;
}
