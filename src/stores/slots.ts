/** Redis Cluster has 16384 hash slots. */
export const SLOTS = 16384;

/**
 * The part of a key Redis Cluster hashes, by Redis's own rule (cluster.c keyHashSlot): the text
 * between the first `{` and the first `}` after it, when that text is not empty; else the whole
 * key. So `{}sipedge{x}:num` hashes whole, and `a{b}c{d}` hashes `b`.
 */
export function hashTagOf(key: string): string {
  const open = key.indexOf('{');
  if (open < 0) return key;
  const close = key.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return key;
  return key.slice(open + 1, close);
}

/**
 * The slot Redis Cluster puts a key in: CRC16 (XMODEM, the variant Redis specifies) of the hashed
 * part, modulo 16384. Written here rather than taken from cluster-key-slot (ioredis's), because that
 * library reads keys like `{}a}b` differently from Redis; a test pins this against CLUSTER KEYSLOT.
 */
export function keySlot(key: string): number {
  let crc = 0;
  for (const byte of Buffer.from(hashTagOf(key), 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % SLOTS;
}

/** The keys one script, transaction or batch touches, named for error messages. */
export interface KeySet {
  readonly what: string;
  readonly keys: readonly string[];
}

/**
 * Throws, naming the step and the first key that leaves the slot of the first key, when the keys
 * of one atomic step would land in different Redis Cluster slots (CROSSSLOT).
 */
export function assertOneSlot({ what, keys }: KeySet): void {
  if (keys.length === 0) return;
  const slot = keySlot(keys[0]!);
  for (const key of keys.slice(1)) {
    const other = keySlot(key);
    if (other !== slot) {
      throw new Error(`key layout: ${what} would cross slots: ${JSON.stringify(key)} is in slot ${other}, ${JSON.stringify(keys[0])} in slot ${slot}`);
    }
  }
}

/** Keys grouped by slot, each group in first-seen order. */
export function groupBySlot<T>(items: readonly T[], keyOf: (item: T) => string): Map<number, T[]> {
  const groups = new Map<number, T[]>();
  for (const item of items) {
    const slot = keySlot(keyOf(item));
    const group = groups.get(slot);
    if (group) group.push(item);
    else groups.set(slot, [item]);
  }
  return groups;
}
