import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          // *.outage.test.ts stop and pause their own servers for minutes: `npm run test:outage`.
          exclude: ['test/integration/**/*.cluster.test.ts', 'test/integration/**/*.outage.test.ts'],
          globalSetup: ['test/helpers/globalRedis.ts'],
          testTimeout: 20_000,
          hookTimeout: 30_000,
        },
      },
      {
        // The same integration files against a real Redis Cluster (3 masters + 3 replicas), plus
        // the cluster-only ones (*.cluster.test.ts).
        test: {
          name: 'integration-cluster',
          include: ['test/integration/**/*.test.ts'],
          exclude: ['test/integration/**/*.outage.test.ts'],
          globalSetup: ['test/helpers/globalRedisCluster.ts'],
          testTimeout: 30_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'outage',
          include: ['test/integration/**/*.outage.test.ts'],
          globalSetup: ['test/helpers/globalRedis.ts'],
          testTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/helpers/globalRedis.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
