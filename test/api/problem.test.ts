import { describe, expect, test } from "vitest";
import { ServiceError } from "../../node/bridge/walletService.ts";
import { ApiProblem, problem, toProblem } from "../../node/api/problem.ts";

describe("problems", () => {
  test("default: RFC 9457 members with a stable code", () => {
    expect(problem("not_found", 404, "No route for GET /x.", { instance: "/x" })).toEqual({
      type: "https://hulian.dev/problems/not_found",
      title: "Not found",
      status: 404,
      detail: "No route for GET /x.",
      code: "not_found",
      instance: "/x",
    });
  });

  test("behavior: a ServiceError keeps its code, status, message and details", () => {
    const err = new ServiceError("insufficient_funds", 409, "Insufficient funds.", { balance: "5", needed: "10" });
    const m = toProblem(err, { instance: "/v1/payments", requestId: "r1" });
    expect(m.internal).toBe(false);
    expect(m.problem).toEqual({
      type: "https://hulian.dev/problems/insufficient_funds",
      title: "Conflict",
      status: 409,
      detail: "Insufficient funds.",
      code: "insufficient_funds",
      instance: "/v1/payments",
      requestId: "r1",
      details: { balance: "5", needed: "10" },
    });
  });

  test("behavior: idempotency_key_reused is 422 whatever status the service gave", () => {
    expect(toProblem(new ServiceError("idempotency_key_reused", 409, "reused")).problem.status).toBe(422);
  });

  test("behavior: a ServiceError with a non-error status becomes 500; 503 asks to retry", () => {
    expect(toProblem(new ServiceError("odd", 200, "odd")).problem.status).toBe(500);
    const m = toProblem(new ServiceError("chain_unavailable", 503, "Chain unavailable."));
    expect(m.headers["retry-after"]).toBe("1");
    expect(m.internal).toBe(true);
  });

  test("error: anything else is a 500 internal_error that leaks nothing", () => {
    const err = new Error("ECONNREFUSED 10.0.0.7:8545 at /srv/hulian/node/chain/client.ts:42");
    const m = toProblem(err, { instance: "/v1/payments" });
    expect(m.internal).toBe(true);
    expect(m.problem.code).toBe("internal_error");
    expect(m.problem.status).toBe(500);
    expect(JSON.stringify(m.problem)).not.toMatch(/ECONNREFUSED|10\.0\.0\.7|srv/);
  });

  test("behavior: an ApiProblem carries its field errors and headers", () => {
    const m = toProblem(new ApiProblem("validation_failed", 400, "bad", { errors: [{ field: "amount", message: "x" }], headers: { a: "b" } }));
    expect(m.problem.errors).toEqual([{ field: "amount", message: "x" }]);
    expect(m.problem.title).toBe("Request validation failed");
    expect(m.headers).toEqual({ a: "b" });
  });
});
