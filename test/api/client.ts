import { expect } from "vitest";

/** A response as the tests look at it. */
export interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

/** Options of {@link call}. */
export interface CallOptions {
  key?: string;
  /** JSON body (serialised here) … */
  body?: unknown;
  /** … or the raw body as sent. */
  raw?: string | Uint8Array<ArrayBuffer>;
  idem?: string;
  headers?: Record<string, string>;
}

/** Calls the API with real `fetch`. POSTs get `Content-Type: application/json` unless overridden. */
export async function call(base: string, method: string, path: string, o: CallOptions = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (o.key) headers.authorization = `Bearer ${o.key}`;
  if (o.idem) headers["idempotency-key"] = o.idem;
  const body = o.raw ?? (o.body === undefined ? undefined : JSON.stringify(o.body));
  if (body !== undefined) headers["content-type"] = "application/json";
  Object.assign(headers, o.headers);
  const res = await fetch(base + path, { method, headers, body });
  const text = await res.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

/** Asserts an RFC 9457 problem with this status and code, and returns it. */
export function expectProblem(r: Reply, status: number, code: string): any {
  expect({ status: r.status, code: r.json?.code, body: r.json }).toMatchObject({ status, code });
  expect(r.headers.get("content-type")).toBe("application/problem+json");
  expect(r.json).toMatchObject({ type: `https://hulian.dev/problems/${code}`, status, code });
  expect(typeof r.json.title).toBe("string");
  expect(typeof r.json.detail).toBe("string");
  expect(r.headers.get("x-request-id")).toBe(r.json.requestId);
  return r.json;
}
