import type { TestProject } from 'vitest/node';
import { startRedisServer } from './redisServer.js';
import './testRedis.js';

/** One real Redis for the whole run; each test file isolates itself with its own key prefix. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startRedisServer();
  project.provide('redisUrl', server.url);
  project.provide('redisTarget', { url: server.url, mode: 'standalone', nodes: [] });
  return () => server.stop();
}
