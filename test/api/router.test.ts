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

  test("behavior: a literal route is found by its exact path, and by an encoded one", () => {
    const r = new Router();
    r.add("POST", "/v1/payments", h, { auth: "none" });
    r.add("POST", "/v1/payments/bulk", h, { auth: "none" });
    r.add("GET", "/v1/payments/:id", h, { auth: "none" });
    const bulk = r.match("POST", "/v1/payments/bulk");
    expect(bulk.kind === "found" && bulk.route.pattern).toBe("/v1/payments/bulk");
    const encoded = r.match("POST", "/v1/payments/b%75lk");
    expect(encoded.kind === "found" && encoded.route.pattern).toBe("/v1/payments/bulk");
    const byId = r.match("GET", "/v1/payments/bulk");
    expect(byId.kind === "found" && byId.route.pattern).toBe("/v1/payments/:id");
    expect(byId.kind === "found" && byId.params).toEqual({ id: "bulk" });
    expect(r.match("PUT", "/v1/payments/bulk")).toEqual({ kind: "method_not_allowed", allow: ["GET", "POST"] });
  });

  test("error: malformed patterns and duplicates are refused at registration", () => {
    const r = new Router();
    r.add("GET", "/a/:id", h, { auth: "none" });
    expect(() => r.add("GET", "/a/:other", h, { auth: "none" })).toThrow("already registered");
    expect(() => r.add("GET", "a", h, { auth: "none" })).toThrow("must start with");
    expect(() => r.add("GET", "/a/{id}", h, { auth: "none" })).toThrow("bad segment");
  });
});
