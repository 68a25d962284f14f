import { BlockList, SocketAddress, isIP } from 'node:net';

export interface ParsedCidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** "10.0.0.0/8", "2001:db8::/32" or a bare address (a /32 or /128). */
export function parseCidr(text: string): ParsedCidr | null {
  const [address = '', prefixText, ...rest] = text.trim().split('/');
  if (rest.length > 0) return null;
  const version = isIP(address);
  if (version === 0) return null;
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > max || (prefixText !== undefined && !/^\d+$/.test(prefixText))) return null;
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Source address as seen by drachtio, with IPv4-mapped IPv6 ("::ffff:192.0.2.1") unwrapped. */
export function canonicalAddress(address: string): { address: string; family: 'ipv4' | 'ipv6' } | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  const candidate = mapped ? mapped[1]! : bare;
  const version = isIP(candidate);
  if (version === 0) return null;
  return { address: candidate, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** Source addresses whose answer a matcher keeps (oldest out first). */
const MEMO_SIZE = 10_000;

/**
 * Matches source addresses against owners' CIDR lists; the longest prefix wins, so a customer's
 * /32 inside a carrier's /24 goes to the customer. Carriers send from a few addresses, call after
 * call: the answers for the last MEMO_SIZE addresses are kept, so a known source costs one Map
 * lookup however many lists there are.
 */
export class CidrMatcher<T> {
  private readonly entries: { list: BlockList; prefix: number; owner: T }[] = [];
  private readonly memo = new Map<string, T | null>();

  add(cidr: string, owner: T): void {
    const parsed = parseCidr(cidr);
    if (!parsed) throw new Error(`invalid CIDR: ${cidr}`);
    const list = new BlockList();
    list.addSubnet(parsed.address, parsed.prefix, parsed.family);
    this.entries.push({ list, prefix: parsed.prefix, owner });
    this.entries.sort((a, b) => b.prefix - a.prefix);
    this.memo.clear();
  }

  match(address: string): T | undefined {
    const known = this.memo.get(address);
    if (known !== undefined) return known ?? undefined;
    const owner = this.scan(address);
    if (this.memo.size >= MEMO_SIZE) this.memo.delete(this.memo.keys().next().value!);
    this.memo.set(address, owner ?? null);
    return owner;
  }

  private scan(address: string): T | undefined {
    if (this.entries.length === 0) return undefined;
    const source = canonicalAddress(address);
    if (!source) return undefined;
    // BlockList.check(string) builds a SocketAddress for every list: build it once.
    const socketAddress = new SocketAddress(source);
    for (const entry of this.entries) {
      if (entry.list.check(socketAddress)) return entry.owner;
    }
    return undefined;
  }

  get size(): number {
    return this.entries.length;
  }
}
