import { expect } from "vitest";
import { OpenApiResponseChecker } from "./openapiCheck.ts";

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

type Json = Record<string, any>;

/** Where the OpenAPI document of each API base URL comes from; bounded (oldest dropped). */
const MAX_APIS = 64;
const documents = new Map<string, () => Json>();
const checkers = new Map<string, { text: string; checker: OpenApiResponseChecker }>();

function remember<V>(map: Map<string, V>, key: string, value: V): V {
  map.delete(key);
  if (map.size >= MAX_APIS) map.delete(map.keys().next().value!);
  map.set(key, value);
  return value;
}

/**
 * Says where the document of the API at `base` comes from (startApi passes the server's routes,
 * so routes mounted later are in it). Without it, {@link call} reads `base/openapi.json`.
 */
export function registerApiDocument(base: string, document: () => Json): void {
  remember(documents, base, document);
}

async function checkerFor(base: string): Promise<OpenApiResponseChecker> {
  const source = documents.get(base);
  let text: string;
  if (source) text = JSON.stringify(source());
  else {
    const cached = checkers.get(base);
    if (cached) return cached.checker;
    const res = await fetch(`${base}/openapi.json`);
    text = await res.text();
    if (res.status !== 200) throw new Error(`cannot check responses of ${base}: GET /openapi.json answered ${res.status}`);
  }
  const cached = checkers.get(base);
  if (cached?.text === text) return cached.checker;
  return remember(checkers, base, { text, checker: new OpenApiResponseChecker(JSON.parse(text) as Json) }).checker;
}

/**
 * Calls the API with real `fetch`. POSTs get `Content-Type: application/json` unless overridden.
 * Every response is checked against the server's OpenAPI document (test/api/openapiCheck.ts):
 * an undocumented status, media type or body shape fails the call, naming route and status.
 */
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
  (await checkerFor(base)).assert({ method, path, status: res.status, contentType: res.headers.get("content-type"), body: text });
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
