import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration suites start their own emulator on a free loopback port; keep CPU for them.
    maxWorkers: 2,
  },
});
