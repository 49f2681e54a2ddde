import { describe, expect, test } from "vitest";
import { UsageError } from "../../node/cli/args.ts";
import { logSpan } from "../../node/cli/logSpan.ts";

describe("--log-span", () => {
  test("default: Besu's rpc-max-logs-range, 5,000 blocks", () => {
    expect(logSpan({})).toBe(5_000);
    expect(logSpan({ "log-span": "2000" })).toBe(2_000);
  });

  test("error: zero, a fraction or too many blocks is a usage error", () => {
    for (const bad of ["0", "1.5", "-1", "2000000", "lots"]) {
      expect(() => logSpan({ "log-span": bad })).toThrow(UsageError);
      expect(() => logSpan({ "log-span": bad })).toThrow("--log-span must be a whole number of blocks from 1 to 1000000");
    }
  });
});
