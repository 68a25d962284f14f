import { randomUUID } from 'node:crypto';
import type { AgentRecord, PhoneNumber, PhoneNumberRecord, Trunk, TrunkRecord, Agent } from '../domain/model.js';
import { STATUS_TRANSITIONS } from '../domain/model.js';
import { applyAtomic, type AtomicWrite, type Guard, type Op } from './atomic.js';
import { CatalogError, notFound } from './catalogErrors.js';
import { encodeInvalidation, type EntityKind, type RedisKeys } from './keys.js';
import { getMany, type RedisClient } from './redis.js';

export interface Page<T> {
  readonly items: T[];
  readonly next_cursor: string | null;
}

export interface RowError {
  readonly row: number;
  readonly code: string;
  readonly message: string;
  readonly field?: string;
}

const MAX_ATTEMPTS = 5;

export function newId(kind: EntityKind): string {
  const prefix = kind === 'trunk' ? 'trk' : kind === 'agent' ? 'agt' : 'num';
  return `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 20)}`;
}

/** Agents a number points at (for reference checks and reverse indexes). */
function agentRefs(n: PhoneNumber): string[] {
  const ids = [n.agent_id, n.inbound_routing?.agent_id, n.inbound_routing?.fallback?.agent_id];
  return [...new Set(ids.filter((x): x is string => typeof x === 'string'))];
}

function parse<T>(raw: string | null): T | null {
  return raw === null ? null : (JSON.parse(raw) as T);
}

/**
 * Trunks, agents and phone numbers in Redis. Every write reads, validates, then applies with
 * guards on what it read (see atomic.ts): a refused write changes nothing, a concurrent one retries.
 */
export class Catalog {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly now: () => Date = () => new Date(),
  ) {}

  // ---- reads -------------------------------------------------------------------------------

  async getTrunk(id: string): Promise<TrunkRecord | null> {
    return parse<TrunkRecord>(await this.redis.get(this.keys.trunk(id)));
  }

  async getAgent(id: string): Promise<AgentRecord | null> {
    return parse<AgentRecord>(await this.redis.get(this.keys.agent(id)));
  }

  async getNumber(id: string): Promise<PhoneNumberRecord | null> {
    const e164 = await this.redis.get(this.keys.numberId(id));
    return e164 === null ? null : this.getNumberByE164(e164);
  }

  async getNumberByE164(e164: string): Promise<PhoneNumberRecord | null> {
    return parse<PhoneNumberRecord>(await this.redis.get(this.keys.number(e164)));
  }

  /** Ids in lexical order after `cursor`; the cursor of the next page is the last id returned. */
  async list<K extends EntityKind>(kind: K, cursor: string | null, limit: number): Promise<Page<RecordOf<K>>> {
    const ids = await this.redis.zrangebylex(this.keys.index(kind), cursor ? `(${cursor}` : '-', '+', 'LIMIT', 0, limit + 1);
    const pageIds = ids.slice(0, limit);
    if (pageIds.length === 0) return { items: [], next_cursor: null };
    const recordKeys =
      kind === 'number'
        ? (await getMany(this.redis, pageIds.map((id) => this.keys.numberId(id)))).map((e) => this.keys.number(e ?? ''))
        : pageIds.map((id) => (kind === 'trunk' ? this.keys.trunk(id) : this.keys.agent(id)));
    const raws = await getMany(this.redis, recordKeys);
    const items = raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as RecordOf<K>);
    return { items, next_cursor: ids.length > limit ? pageIds[pageIds.length - 1]! : null };
  }

  // ---- trunks and agents ---------------------------------------------------------------------

  async createTrunk(trunk: Trunk): Promise<TrunkRecord> {
    return this.retry(async () => {
      const key = this.keys.trunk(trunk.id);
      if ((await this.redis.exists(key)) === 1) throw new CatalogError('conflict', 'already_exists', `trunk ${trunk.id} already exists`);
      const record = this.stamp(trunk, null);
      return this.commit(record, {
        guards: [{ kind: 'eq', key, value: false }],
        ops: [{ op: 'set', key, value: JSON.stringify(record) }, { op: 'zadd', key: this.keys.index('trunk'), member: trunk.id }],
        publish: [this.invalidation('trunk', trunk.id)],
      });
    });
  }

  async replaceTrunk(id: string, build: (current: TrunkRecord) => Trunk): Promise<TrunkRecord> {
    return this.retry(async () => {
      const key = this.keys.trunk(id);
      const raw = await this.redis.get(key);
      const current = parse<TrunkRecord>(raw);
      if (!current || raw === null) throw notFound('trunk', id);
      const next = build(current);
      const guards: Guard[] = [{ kind: 'eq', key, value: raw }];
      if (next.workspace_id !== current.workspace_id && next.workspace_id !== null) {
        guards.push(...(await this.unused('trunk', id, 'its workspace_id cannot change')));
      }
      const record = this.stamp(next, current);
      return this.commit(record, {
        guards,
        ops: [{ op: 'set', key, value: JSON.stringify(record) }],
        publish: [this.invalidation('trunk', id)],
      });
    });
  }

  async deleteTrunk(id: string): Promise<void> {
    await this.deleteSimple('trunk', id, this.keys.trunk(id));
  }

  async createAgent(agent: Agent): Promise<AgentRecord> {
    return this.retry(async () => {
      const key = this.keys.agent(agent.id);
      if ((await this.redis.exists(key)) === 1) throw new CatalogError('conflict', 'already_exists', `agent ${agent.id} already exists`);
      const record = this.stamp(agent, null);
      return this.commit(record, {
        guards: [{ kind: 'eq', key, value: false }],
        ops: [{ op: 'set', key, value: JSON.stringify(record) }, { op: 'zadd', key: this.keys.index('agent'), member: agent.id }],
        publish: [this.invalidation('agent', agent.id)],
      });
    });
  }

  async replaceAgent(id: string, build: (current: AgentRecord) => Agent): Promise<AgentRecord> {
    return this.retry(async () => {
      const key = this.keys.agent(id);
      const raw = await this.redis.get(key);
      const current = parse<AgentRecord>(raw);
      if (!current || raw === null) throw notFound('agent', id);
      const next = build(current);
      const guards: Guard[] = [{ kind: 'eq', key, value: raw }];
      if (next.workspace_id !== current.workspace_id) guards.push(...(await this.unused('agent', id, 'its workspace_id cannot change')));
      const record = this.stamp(next, current);
      return this.commit(record, {
        guards,
        ops: [{ op: 'set', key, value: JSON.stringify(record) }],
        publish: [this.invalidation('agent', id)],
      });
    });
  }

  async deleteAgent(id: string): Promise<void> {
    await this.deleteSimple('agent', id, this.keys.agent(id));
  }

  // ---- phone numbers -------------------------------------------------------------------------

  async createNumber(number: PhoneNumber): Promise<PhoneNumberRecord> {
    const [record] = await this.importNumbers([number], 0);
    return record!;
  }

  /**
   * All-or-nothing registration of many numbers. Throws a CatalogError whose details list every
   * refused row (with `rowOffset` added to each row index) and writes nothing in that case.
   */
  async importNumbers(numbers: readonly PhoneNumber[], rowOffset = 0): Promise<PhoneNumberRecord[]> {
    return this.retry(async () => {
      const errors: RowError[] = [];
      const seenE164 = new Map<string, number>();
      const seenIds = new Map<string, number>();
      numbers.forEach((n, i) => {
        const dupE164 = seenE164.get(n.phone_number);
        if (dupE164 !== undefined) errors.push({ row: i + rowOffset, field: 'phone_number', code: 'duplicate_in_request', message: `${n.phone_number} also appears in row ${dupE164 + rowOffset}` });
        else seenE164.set(n.phone_number, i);
        const dupId = seenIds.get(n.id);
        if (dupId !== undefined) errors.push({ row: i + rowOffset, field: 'id', code: 'duplicate_in_request', message: `id ${n.id} also appears in row ${dupId + rowOffset}` });
        else seenIds.set(n.id, i);
      });

      const numberKeys = numbers.map((n) => this.keys.number(n.phone_number));
      const idKeys = numbers.map((n) => this.keys.numberId(n.id));
      const [existingNumbers, existingIds] = await Promise.all([this.mget(numberKeys), this.mget(idKeys)]);
      const refs = await this.readRefs(numbers);

      numbers.forEach((n, i) => {
        if (existingNumbers[i] !== null) errors.push({ row: i + rowOffset, field: 'phone_number', code: 'number_already_imported', message: `${n.phone_number} is already registered` });
        else if (existingIds[i] !== null) errors.push({ row: i + rowOffset, field: 'id', code: 'already_exists', message: `phone number id ${n.id} already exists` });
        for (const e of this.referenceErrors(n, refs)) errors.push({ row: i + rowOffset, ...e });
      });
      if (errors.length > 0) throw this.rowsRefused(errors, numbers.length === 1);

      const records = numbers.map((n) => this.stamp(n, null));
      const guards: Guard[] = [
        ...numberKeys.map((key): Guard => ({ kind: 'eq', key, value: false })),
        ...idKeys.map((key): Guard => ({ kind: 'eq', key, value: false })),
        ...refs.guards,
      ];
      const ops: Op[] = records.flatMap((r) => this.numberWriteOps(r, null));
      const applied = await applyAtomic(this.redis, this.keys, { guards, ops, publish: records.map((r) => this.invalidation('number', r.phone_number)) });
      if (!applied) throw RETRY;
      return records;
    });
  }

  async replaceNumber(id: string, build: (current: PhoneNumberRecord) => PhoneNumber): Promise<PhoneNumberRecord> {
    return this.retry(async () => {
      const e164 = await this.redis.get(this.keys.numberId(id));
      if (e164 === null) throw notFound('phone number', id);
      const key = this.keys.number(e164);
      const raw = await this.redis.get(key);
      const current = parse<PhoneNumberRecord>(raw);
      if (!current || raw === null) throw RETRY;
      const next = build(current);
      if (next.id !== current.id || next.phone_number !== current.phone_number) {
        throw new CatalogError('unprocessable', 'immutable_field', 'id and phone_number of a phone number cannot change');
      }
      if (next.status !== current.status && !STATUS_TRANSITIONS[current.status].includes(next.status)) {
        throw new CatalogError('conflict', 'invalid_status_transition', `status cannot change from ${current.status} to ${next.status}`, {
          allowed: STATUS_TRANSITIONS[current.status],
        });
      }
      const refs = await this.readRefs([next]);
      const problems = this.referenceErrors(next, refs);
      if (problems.length > 0) throw this.rowsRefused(problems.map((p) => ({ row: 0, ...p })), true);
      const record = this.stamp(next, current);
      return this.commit(record, {
        guards: [{ kind: 'eq', key, value: raw }, ...refs.guards],
        ops: this.numberWriteOps(record, current),
        publish: [this.invalidation('number', e164)],
      });
    });
  }

  async deleteNumber(id: string): Promise<void> {
    await this.retry(async () => {
      const e164 = await this.redis.get(this.keys.numberId(id));
      if (e164 === null) throw notFound('phone number', id);
      const key = this.keys.number(e164);
      const raw = await this.redis.get(key);
      const current = parse<PhoneNumberRecord>(raw);
      if (!current || raw === null) throw RETRY;
      const ops: Op[] = [
        { op: 'del', key },
        { op: 'del', key: this.keys.numberId(id) },
        { op: 'zrem', key: this.keys.index('number'), member: id },
        ...this.refOps(current, 'srem'),
      ];
      const applied = await applyAtomic(this.redis, this.keys, { guards: [{ kind: 'eq', key, value: raw }], ops, publish: [this.invalidation('number', e164)] });
      if (!applied) throw RETRY;
    });
  }

  // ---- helpers -------------------------------------------------------------------------------

  private mget(keys: string[]): Promise<(string | null)[]> {
    return getMany(this.redis, keys);
  }

  /** Reads every trunk and agent the numbers refer to, with guards that they stay as read. */
  private async readRefs(numbers: readonly PhoneNumber[]): Promise<{ trunks: Map<string, TrunkRecord>; agents: Map<string, AgentRecord>; guards: Guard[] }> {
    const trunkIds = [...new Set(numbers.map((n) => n.trunk_id).filter((x): x is string => x !== null))];
    const agentIds = [...new Set(numbers.flatMap(agentRefs))];
    const [trunkRaws, agentRaws] = await Promise.all([
      this.mget(trunkIds.map((id) => this.keys.trunk(id))),
      this.mget(agentIds.map((id) => this.keys.agent(id))),
    ]);
    const guards: Guard[] = [];
    const trunks = new Map<string, TrunkRecord>();
    const agents = new Map<string, AgentRecord>();
    trunkIds.forEach((id, i) => {
      const raw = trunkRaws[i] ?? null;
      guards.push({ kind: 'eq', key: this.keys.trunk(id), value: raw ?? false });
      if (raw !== null) trunks.set(id, JSON.parse(raw) as TrunkRecord);
    });
    agentIds.forEach((id, i) => {
      const raw = agentRaws[i] ?? null;
      guards.push({ kind: 'eq', key: this.keys.agent(id), value: raw ?? false });
      if (raw !== null) agents.set(id, JSON.parse(raw) as AgentRecord);
    });
    return { trunks, agents, guards };
  }

  private referenceErrors(n: PhoneNumber, refs: { trunks: Map<string, TrunkRecord>; agents: Map<string, AgentRecord> }): Omit<RowError, 'row'>[] {
    const errors: Omit<RowError, 'row'>[] = [];
    if (n.trunk_id !== null) {
      const trunk = refs.trunks.get(n.trunk_id);
      if (!trunk) errors.push({ field: 'trunk_id', code: 'reference_not_found', message: `trunk ${n.trunk_id} does not exist` });
      else if (trunk.workspace_id !== null && trunk.workspace_id !== n.workspace_id) {
        errors.push({ field: 'trunk_id', code: 'workspace_mismatch', message: `trunk ${n.trunk_id} belongs to workspace ${trunk.workspace_id}, not ${n.workspace_id}` });
      } else if (n.telephony === 'byoc' && trunk.kind !== 'byoc') {
        errors.push({ field: 'trunk_id', code: 'trunk_kind_mismatch', message: `byoc numbers need a byoc trunk; ${n.trunk_id} is ${trunk.kind}` });
      } else if (n.telephony !== 'byoc' && trunk.kind === 'byoc') {
        errors.push({ field: 'trunk_id', code: 'trunk_kind_mismatch', message: `${n.telephony} numbers cannot use the byoc trunk ${n.trunk_id}` });
      }
    }
    const fields: [string, string | null | undefined][] = [
      ['agent_id', n.agent_id],
      ['inbound_routing.agent_id', n.inbound_routing?.agent_id],
      ['inbound_routing.fallback.agent_id', n.inbound_routing?.fallback?.agent_id],
    ];
    for (const [field, agentId] of fields) {
      if (typeof agentId !== 'string') continue;
      const agent = refs.agents.get(agentId);
      if (!agent) errors.push({ field, code: 'reference_not_found', message: `agent ${agentId} does not exist` });
      else if (agent.workspace_id !== n.workspace_id) {
        errors.push({ field, code: 'workspace_mismatch', message: `agent ${agentId} belongs to workspace ${agent.workspace_id}, not ${n.workspace_id}` });
      }
    }
    return errors;
  }

  private rowsRefused(errors: RowError[], single: boolean): CatalogError {
    if (single && errors.length > 0) {
      const first = errors[0]!;
      const kind = first.code === 'number_already_imported' || first.code === 'already_exists' ? 'conflict' : 'unprocessable';
      return new CatalogError(kind, first.code, first.message, { errors: errors.map(({ row: _row, ...e }) => e) });
    }
    const conflict = errors.some((e) => e.code === 'number_already_imported');
    return new CatalogError(
      conflict && errors.every((e) => e.code === 'number_already_imported') ? 'conflict' : 'unprocessable',
      conflict && errors.every((e) => e.code === 'number_already_imported') ? 'number_already_imported' : 'import_rejected',
      `${errors.length} row(s) refused; nothing was imported`,
      { errors },
    );
  }

  private numberWriteOps(record: PhoneNumberRecord, previous: PhoneNumberRecord | null): Op[] {
    return [
      { op: 'set', key: this.keys.number(record.phone_number), value: JSON.stringify(record) },
      { op: 'set', key: this.keys.numberId(record.id), value: record.phone_number },
      { op: 'zadd', key: this.keys.index('number'), member: record.id },
      ...(previous ? this.refOps(previous, 'srem') : []),
      ...this.refOps(record, 'sadd'),
    ];
  }

  private refOps(n: PhoneNumber, op: 'sadd' | 'srem'): Op[] {
    const ops: Op[] = agentRefs(n).map((agentId) => ({ op, key: this.keys.refs('agent', agentId), member: n.id }));
    if (n.trunk_id !== null) ops.push({ op, key: this.keys.refs('trunk', n.trunk_id), member: n.id });
    return ops;
  }

  /** Guards that nothing references the trunk/agent; throws 409 in_use when something does. */
  private async unused(kind: 'trunk' | 'agent', id: string, what: string): Promise<Guard[]> {
    const refsKey = this.keys.refs(kind, id);
    const users = await this.redis.srandmember(refsKey, 5);
    if (users.length > 0) {
      throw new CatalogError('conflict', 'in_use', `${kind} ${id} is used by phone numbers; ${what}`, { phone_number_ids: users });
    }
    return [{ kind: 'empty', key: refsKey }];
  }

  private async deleteSimple(kind: 'trunk' | 'agent', id: string, key: string): Promise<void> {
    await this.retry(async () => {
      const raw = await this.redis.get(key);
      if (raw === null) throw notFound(kind, id);
      const guards = [{ kind: 'eq', key, value: raw } as Guard, ...(await this.unused(kind, id, 'it cannot be deleted'))];
      const applied = await applyAtomic(this.redis, this.keys, {
        guards,
        ops: [{ op: 'del', key }, { op: 'zrem', key: this.keys.index(kind), member: id }],
        publish: [this.invalidation(kind, id)],
      });
      if (!applied) throw RETRY;
    });
  }

  private stamp<T extends object>(value: T, previous: { created_at: string } | null): T & { created_at: string; updated_at: string } {
    const now = this.now().toISOString();
    return { ...value, created_at: previous?.created_at ?? now, updated_at: now };
  }

  private invalidation(kind: EntityKind, key: string): [string, string] {
    return [this.keys.invalidations, encodeInvalidation({ kind, key })];
  }

  private async commit<T>(record: T, write: AtomicWrite): Promise<T> {
    if (!(await applyAtomic(this.redis, this.keys, write))) throw RETRY;
    return record;
  }

  private async retry<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 0; i < MAX_ATTEMPTS; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (err !== RETRY) throw err;
      }
      // Another writer changed (or, on a cluster, holds a lock on) what we read: let it finish.
      await new Promise((resolve) => setTimeout(resolve, 5 + Math.random() * 20 * (i + 1)));
    }
    throw new CatalogError('conflict', 'concurrent_modification', 'the resource kept changing during the write; try again');
  }
}

const RETRY = Symbol('retry');

export type RecordOf<K extends EntityKind> = K extends 'trunk' ? TrunkRecord : K extends 'agent' ? AgentRecord : PhoneNumberRecord;
