import { describe, expect, test } from "vitest";
import { Router } from "../../node/api/router.ts";

const h = () => ({ status: 200 });

describe("Router", () => {
  test("default: literal and parameter segments match; parameters are decoded", () => {
    const r = new Router();
    r.add("GET", "/v1/accounts/:id", h, { auth: "none" });
    const m = r.match("GET", "/v1/accounts/c%5F1");
    expect(m.kind).toBe("found");
    if (m.kind === "found") expect(m.params).toEqual({ id: "c_1" });
  });

  test("behavior: an earlier literal segment wins, whatever the registration order", () => {
    const r = new Router();
    r.add("GET", "/v1/accounts/:id/history", h, { auth: "none" });
    r.add("GET", "/v1/accounts/by-handle/:handle", h, { auth: "none" });
    const m = r.match("GET", "/v1/accounts/by-handle/history");
    expect(m.kind === "found" && m.route.pattern).toBe("/v1/accounts/by-handle/:handle");
  });

  test("behavior: a path known for other methods is 405 with the allowed ones", () => {
    const r = new Router();
    r.add("POST", "/v1/payments", h, { auth: "none" });
    r.add("GET", "/v1/payments/:id", h, { auth: "none" });
    expect(r.match("DELETE", "/v1/payments")).toEqual({ kind: "method_not_allowed", allow: ["POST"] });
    expect(r.match("GET", "/v1/payments")).toEqual({ kind: "method_not_allowed", allow: ["POST"] });
  });

  test("error: unknown paths, empty segments, trailing slashes and bad encodings are not found", () => {
    const r = new Router();
    r.add("GET", "/v1/accounts/:id", h, { auth: "none" });
    for (const p of ["/v1/nope", "/v1/accounts/", "/v1/accounts//", "/v1/accounts/%E0%A4%A", "/v1/accounts/a/b", "/"]) {
      expect(r.match("GET", p).kind, p).toBe("not_found");
    }
  });

  test("error: malformed patterns and duplicates are refused at registration", () => {
    const r = new Router();
    r.add("GET", "/a/:id", h, { auth: "none" });
    expect(() => r.add("GET", "/a/:other", h, { auth: "none" })).toThrow("already registered");
    expect(() => r.add("GET", "a", h, { auth: "none" })).toThrow("must start with");
    expect(() => r.add("GET", "/a/{id}", h, { auth: "none" })).toThrow("bad segment");
  });
});
