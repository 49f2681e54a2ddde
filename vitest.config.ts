import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: "forks",
    // A loaded 2-core CI machine can take seconds to re-render a page or settle a batch.
    expect: { poll: { timeout: 15_000, interval: 100 } },
    reporters: ["default"],
  },
});
