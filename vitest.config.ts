import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // e2e tests start real Prometheus/Alertmanager binaries; keep the 2-core CI machine sane.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
