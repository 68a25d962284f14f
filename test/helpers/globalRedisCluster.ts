import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redisCluster.js';
import './testRedis.js';

/**
 * One real Redis Cluster (3 masters, 3 replicas) for the whole run of the `integration-cluster`
 * project: the integration tier runs against it as well as against a standalone server.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide('redisUrl', cluster.url);
  project.provide('redisTarget', { url: cluster.url, mode: 'cluster', nodes: [...cluster.seeds] });
  return () => cluster.stop();
}
