import type { TestProject } from 'vitest/node';
import { startRedisCluster } from './redisCluster.js';
import './testRedis.js';

/**
 * One real Redis Cluster (3 masters, 3 replicas) for the whole run of the `integration-cluster`
 * project: the integration tier runs against it as well as against a standalone server. At the
 * end, every node's error statistics must show no CROSSSLOT (nor MOVED loops, which ioredis would
 * have followed silently, show up there as errors either): a step that crossed slots anywhere in
 * the run fails it even if the test that caused it swallowed the error.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cluster = await startRedisCluster();
  project.provide('redisUrl', cluster.url);
  project.provide('redisTarget', { url: cluster.url, mode: 'cluster', nodes: [...cluster.seeds] });
  return async () => {
    try {
      const crossSlot: string[] = [];
      for (const node of cluster.nodes) {
        const stats = await cluster.cli(node.port, 'INFO', 'errorstats').catch(() => '');
        const count = /errorstat_CROSSSLOT:count=(\d+)/.exec(stats)?.[1];
        if (count) crossSlot.push(`${node.address}: ${count}`);
      }
      if (crossSlot.length > 0) throw new Error(`CROSSSLOT errors during the cluster run: ${crossSlot.join(', ')}`);
    } finally {
      await cluster.stop();
    }
  };
}
