/**
 * Per-source-address rate limit for requests from sources that match no trunk: past the rate they
 * are dropped without an answer, so a flood costs neither a reply nor a Redis round trip. Legitimate
 * trunks never reach it. In memory per instance, bounded in the number of sources it remembers.
 */
export class SourceFloodGuard {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly ratePerS: number,
    private readonly maxSources = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** true when this source may have one more request now */
  allow(source: string): boolean {
    if (this.ratePerS <= 0) return true;
    const now = this.now();
    const capacity = Math.max(1, this.ratePerS);
    const bucket = this.buckets.get(source);
    let tokens = capacity;
    if (bucket) {
      tokens = Math.min(capacity, bucket.tokens + ((now - bucket.at) * this.ratePerS) / 1000);
      this.buckets.delete(source); // re-inserted below: Map order is least recently seen first
    } else if (this.buckets.size >= this.maxSources) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    const allowed = tokens >= 1;
    this.buckets.set(source, { tokens: allowed ? tokens - 1 : tokens, at: now });
    return allowed;
  }

  get trackedSources(): number {
    return this.buckets.size;
  }
}
