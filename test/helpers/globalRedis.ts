import type {} from 'vitest';
import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redisServer.js';

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string;
  }
}

/** One real Redis for the whole run; each test file isolates itself with its own key prefix. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  return () => server.stop();
}
