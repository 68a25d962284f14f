import type { DncEntry, DncListing } from '../domain/dnc.js';
import type { DncScope, RedisKeys } from './keys.js';
import type { RedisClient } from './redis.js';

/** What the outbound pipeline asks: is this destination on the workspace's or the platform's list? */
export interface DoNotCallLookup {
  /** Throws when Redis cannot answer (the pipeline then refuses the call: it never dials blind). */
  listing(workspaceId: string, e164: string): Promise<DncListing>;
}

export interface DncPage {
  readonly data: DncEntry[];
  readonly next_cursor: string | null;
}

interface StoredEntry {
  readonly reason: string | null;
  readonly added_at: string;
}

/**
 * Do-not-call lists in Redis, one per workspace and one for the platform: a sorted set of E.164
 * numbers (all scores 0, so pages come in lexical order as the catalog's do) that the call path
 * reads, and a hash of what each entry says (reason, when added) that only the admin API reads.
 * Both change in one MULTI. In cluster mode the prefix's hash tag keeps every key in one slot.
 */
export class RedisDoNotCallList implements DoNotCallLookup {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
  ) {}

  async listing(workspaceId: string, e164: string): Promise<DncListing> {
    // two lists, two slots on a Redis Cluster: two commands (sent together), not one pipeline
    const [workspace, platform] = (
      await Promise.all([this.redis.zscore(this.keys.dnc({ kind: 'workspace', workspaceId }), e164), this.redis.zscore(this.keys.dnc({ kind: 'platform' }), e164)])
    ).map((value) => value !== null);
    if (workspace) return 'workspace';
    return platform ? 'platform' : null;
  }

  async get(scope: DncScope, e164: string): Promise<DncEntry | null> {
    const [listed, raw] = await Promise.all([this.redis.zscore(this.keys.dnc(scope), e164), this.redis.hget(this.keys.dncEntries(scope), e164)]);
    if (listed === null) return null;
    return entryOf(e164, raw);
  }

  /** Adds the entries that are not there yet (an entry already listed keeps its reason and date); returns how many were new. */
  async add(scope: DncScope, entries: readonly { phone_number: string; reason: string | null }[], now = new Date()): Promise<number> {
    if (entries.length === 0) return 0;
    const fields: string[] = [];
    const seen = new Set<string>();
    for (const e of entries) {
      if (seen.has(e.phone_number)) continue;
      seen.add(e.phone_number);
      fields.push(e.phone_number, JSON.stringify({ reason: e.reason, added_at: now.toISOString() } satisfies StoredEntry));
    }
    const result = await this.redis.eval(ADD_SCRIPT, 2, this.keys.dnc(scope), this.keys.dncEntries(scope), ...fields);
    return Number(result);
  }

  /** true when the number was listed. */
  async remove(scope: DncScope, e164: string): Promise<boolean> {
    const result = await this.redis.multi().zrem(this.keys.dnc(scope), e164).hdel(this.keys.dncEntries(scope), e164).exec();
    const removed = result?.[0]?.[1];
    return Number(removed) > 0;
  }

  /** One page in E.164 order after `cursor` (the last number of the previous page). */
  async list(scope: DncScope, cursor: string | null, limit: number): Promise<DncPage> {
    const numbers = await this.redis.zrangebylex(this.keys.dnc(scope), cursor === null ? '-' : `(${cursor}`, '+', 'LIMIT', 0, limit + 1);
    const page = numbers.slice(0, limit);
    const raws = page.length === 0 ? [] : await this.redis.hmget(this.keys.dncEntries(scope), ...page);
    return {
      data: page.map((e164, i) => entryOf(e164, raws[i] ?? null)),
      next_cursor: numbers.length > limit ? page[page.length - 1]! : null,
    };
  }
}

function entryOf(e164: string, raw: string | null): DncEntry {
  let stored: Partial<StoredEntry> = {};
  try {
    stored = raw === null ? {} : (JSON.parse(raw) as StoredEntry);
  } catch {
    // an entry whose details were lost is still listed
  }
  return { phone_number: e164, reason: stored.reason ?? null, added_at: stored.added_at ?? new Date(0).toISOString() };
}

/**
 * KEYS[1] the set, KEYS[2] the entries hash; ARGV pairs of (E.164, entry JSON). Numbers already
 * listed keep their entry. Returns how many were added. Atomic: an import is all there or not.
 */
const ADD_SCRIPT = `
local added = 0
for i = 1, #ARGV, 2 do
  if redis.call('ZADD', KEYS[1], 'NX', 0, ARGV[i]) == 1 then
    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 1])
    added = added + 1
  end
end
return added
`;
