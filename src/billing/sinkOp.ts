import type { BillingEvent } from './events.js';

/**
 * One billing append as queued, spooled and replayed. `owner` is the instance life
 * (`<instance_id>~<boot>`) that tracks the call's open record; see APPEND_LUA for the modes.
 */
export interface SinkOp {
  readonly mode: 'plain' | 'open' | 'close' | 'reap';
  readonly owner: string;
  /** reap only: close even though the owner's liveness key exists (an earlier life of this instance) */
  readonly force?: boolean;
  readonly event: BillingEvent;
}
