import { afterAll, beforeAll, inject } from 'vitest';
import type { Config } from '../../../src/config/schema.js';
import { startDrachtio, type DrachtioOptions, type DrachtioServer } from '../../helpers/drachtioServer.js';
import { startEdge, type RunningEdge } from './edge.js';
import { World } from './world.js';

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export interface EdgeFixture {
  readonly drachtio: DrachtioServer;
  readonly edge: RunningEdge;
  readonly world: World;
}

/**
 * One drachtio-server and one in-process edge for the enclosing describe block, started before
 * its tests and stopped after them. `config` may be a function, evaluated in beforeAll (after
 * whatever the block started first, e.g. a voicemail UAS).
 */
export function useEdge(
  config: DeepPartial<Config> | (() => DeepPartial<Config>) = {},
  options: { drachtio?: DrachtioOptions; redisUrl?: () => string } = {},
): EdgeFixture {
  const state: Partial<{ -readonly [K in keyof EdgeFixture]: EdgeFixture[K] }> = {};
  beforeAll(async () => {
    state.drachtio = await startDrachtio(options.drachtio);
    const overrides = typeof config === 'function' ? config() : config;
    state.edge = await startEdge(state.drachtio, options.redisUrl?.() ?? inject('redisUrl'), overrides);
    state.world = new World(state.edge);
  });
  afterAll(async () => {
    await state.edge?.stop();
    await state.drachtio?.stop();
  });
  const get = <K extends keyof EdgeFixture>(key: K): EdgeFixture[K] => {
    const value = state[key];
    if (!value) throw new Error(`edge fixture not started (${key})`);
    return value as EdgeFixture[K];
  };
  return {
    get drachtio() {
      return get('drachtio');
    },
    get edge() {
      return get('edge');
    },
    get world() {
      return get('world');
    },
  };
}
