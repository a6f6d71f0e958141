import { defineConfig } from 'vitest/config';

/**
 * Two projects. "unit" (modules, property tests, the simulator) runs files in parallel.
 * "system" spawns real ledger-node processes, libp2p hosts and LevelDB homes: its files
 * run one at a time, after the unit project (see package.json), so that timing-sensitive
 * end-to-end checks never compete for the 2 cores with each other or with the simulator.
 */
const SYSTEM = ['test/e2e/**/*.test.ts', 'test/chaos/**/*.test.ts', 'test/crash/**/*.test.ts', 'test/attack/**/*.test.ts', 'test/security/**/*.test.ts', 'test/client/**/*.test.ts'];

const shared = {
  // libp2p 3 needs Promise.withResolvers, which Node 20 lacks: load the polyfill first.
  setupFiles: ['./src/polyfill.ts'],
  testTimeout: 30_000,
  hookTimeout: 60_000,
  pool: 'forks' as const,
};

export default defineConfig({
  test: {
    projects: [
      { test: { ...shared, name: 'unit', include: ['test/**/*.test.ts'], exclude: SYSTEM } },
      { test: { ...shared, name: 'system', include: SYSTEM, fileParallelism: false } },
    ],
  },
});
