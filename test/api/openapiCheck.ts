import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import { STRING_FORMATS, checkFormat, type StringFormat } from "../../node/api/validate.ts";

/*
 * Checks HTTP responses against the OpenAPI document of the server that gave them: the operation
 * must document the status, the media type, and the body must validate against the documented
 * schema (ajv, JSON Schema 2020-12, strict: unknown keywords and formats are errors). The API
 * test client (test/api/client.ts) runs it on every response, so a route or status added without
 * its document fails the test that first sees it, naming the route and the status.
 *
 * To extend: document the route (`doc.responses` for a success, `doc.problems` for a problem
 * status); new string formats go in node/api/validate.ts's STRING_FORMATS and are picked up here.
 */

type Json = Record<string, any>;

/** A response as seen on the wire. */
export interface ObservedResponse {
  method: string;
  /** The request path, with or without a query. */
  path: string;
  status: number;
  contentType: string | null;
  body: string;
}

const COMPONENTS_ID = "https://hulian.dev/openapi/components";
/** Compiled validators kept per document; the documents have a few dozen schemas. */
const MAX_COMPILED = 512;
const METHODS = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];

const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/i;

/** ajv with the formats the document uses: the API's own (node/api/validate.ts) and the standard ones it relies on. */
function createAjv(): Ajv2020 {
  const ajv = new Ajv2020({ strict: true, allErrors: true, validateFormats: true });
  ajv.addFormat("date-time", (v: string) => DATE_TIME.test(v) && !Number.isNaN(Date.parse(v)));
  ajv.addFormat("uri", (v: string) => URL.canParse(v));
  for (const format of Object.keys(STRING_FORMATS) as StringFormat[]) ajv.addFormat(format, (v: string) => checkFormat(format, v) === undefined);
  // The API's own annotation on bulk arrays (node/api/validate.ts): no effect on responses.
  ajv.addKeyword({ keyword: "x-items-checked-by-handler", schemaType: "boolean" });
  return ajv;
}

/** `#/components/schemas/X` → the same schema inside the components schema ajv knows. */
function rewriteRefs(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(rewriteRefs);
  if (node === null || typeof node !== "object") return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node)) {
    out[k] = k === "$ref" && typeof v === "string" && v.startsWith("#/components/schemas/") ? `${COMPONENTS_ID}#/$defs/${v.slice("#/components/schemas/".length)}` : rewriteRefs(v);
  }
  return out;
}

const mediaType = (t: string | null | undefined) => (t ?? "").split(";")[0].trim().toLowerCase();
const isJson = (t: string) => t === "application/json" || t.endsWith("+json");

function segmentsOf(path: string): string[] | undefined {
  const q = path.indexOf("?");
  const bare = q < 0 ? path : path.slice(0, q);
  if (!bare.startsWith("/")) return undefined;
  const parts = bare === "/" ? [] : bare.slice(1).split("/");
  try {
    return parts.map((p) => decodeURIComponent(p));
  } catch {
    return undefined;
  }
}

/** The OpenAPI paths a request path matches, most specific (literal segments earlier) first, as the router orders routes. */
function matchingTemplates(paths: Json, segments: string[]): string[] {
  const matches: { template: string; shape: number[] }[] = [];
  for (const template of Object.keys(paths)) {
    const t = template === "/" ? [] : template.slice(1).split("/");
    if (t.length !== segments.length) continue;
    const shape: number[] = [];
    let ok = true;
    for (let i = 0; i < t.length && ok; i++) {
      const param = /^\{[^}]+\}$/.test(t[i]);
      ok = segments[i] !== "" && (param || t[i] === segments[i]);
      shape.push(param ? 1 : 0);
    }
    if (ok) matches.push({ template, shape });
  }
  matches.sort((a, b) => {
    for (let i = 0; i < a.shape.length; i++) if (a.shape[i] !== b.shape[i]) return a.shape[i] - b.shape[i];
    return 0;
  });
  return matches.map((m) => m.template);
}

/** Checks responses against one OpenAPI 3.1 document. */
export class OpenApiResponseChecker {
  readonly #doc: Json;
  readonly #ajv = createAjv();
  readonly #compiled = new Map<string, ValidateFunction>();

  constructor(doc: Json) {
    this.#doc = doc;
    this.#ajv.addSchema({ $id: COMPONENTS_ID, $defs: rewriteRefs(doc.components?.schemas ?? {}) as Json });
  }

  /**
   * Every way `r` departs from the document (empty when it conforms). Each message starts with
   * the method, the path template and the status, e.g.
   * `GET /v1/accounts/{id}/history → 422: status not documented (documented: 200, 400, 401, …)`.
   */
  problems(r: ObservedResponse): string[] {
    const segments = segmentsOf(r.path);
    const method = r.method.toLowerCase();
    const templates = segments ? matchingTemplates(this.#doc.paths ?? {}, segments) : [];
    const template = templates.find((t) => this.#doc.paths[t][method] !== undefined);
    if (template === undefined) {
      // No operation: the router answers 405 when another method has the path, else 404.
      const expected = templates.length > 0 ? { status: 405, code: "method_not_allowed", response: "MethodNotAllowed" } : { status: 404, code: "not_found", response: "NotFound" };
      const where = `${r.method} ${r.path.slice(0, 120)} (no operation) → ${r.status}`;
      if (r.status !== expected.status) return [`${where}: expected ${expected.status} ${expected.code}, the only answer the document allows without an operation`];
      return this.#checkResponse(where, this.#resolve({ $ref: `#/components/responses/${expected.response}` }), r);
    }
    const operation = this.#doc.paths[template][method] as Json;
    const where = `${r.method} ${template} (${operation.operationId}) → ${r.status}`;
    const responses = (operation.responses ?? {}) as Json;
    const documented = responses[String(r.status)] ?? responses[`${String(r.status)[0]}XX`] ?? responses.default;
    if (documented === undefined) return [`${where}: status not documented (documented: ${Object.keys(responses).join(", ")})`];
    return this.#checkResponse(where, this.#resolve(documented), r);
  }

  /** Throws an error listing {@link problems} when there are any. */
  assert(r: ObservedResponse): void {
    const found = this.problems(r);
    if (found.length > 0) throw new Error(`response does not match the OpenAPI document:\n  ${found.join("\n  ")}\n  body: ${r.body.slice(0, 400)}`);
  }

  #resolve(node: Json): Json {
    let n = node;
    for (let hops = 0; typeof n.$ref === "string"; hops++) {
      if (hops > 8) throw new Error(`$ref loop at ${node.$ref}`);
      const parts = (n.$ref as string).replace(/^#\//, "").split("/");
      n = parts.reduce<any>((at, p) => at?.[p], this.#doc);
      if (n === undefined) throw new Error(`unresolved $ref ${node.$ref}`);
    }
    return n;
  }

  #checkResponse(where: string, documented: Json, r: ObservedResponse): string[] {
    const content = documented.content as Json | undefined;
    const type = mediaType(r.contentType);
    if (!content) return r.body === "" ? [] : [`${where}: the response has a ${type || "untyped"} body, but the document describes none`];
    const entry = Object.entries(content).find(([t]) => mediaType(t) === type);
    if (!entry) return [`${where}: media type ${type || "(none)"} not documented (documented: ${Object.keys(content).join(", ")})`];
    const schema = (entry[1] as Json).schema as Json | undefined;
    if (!schema) return [];
    let value: unknown = r.body;
    if (isJson(type)) {
      try {
        value = JSON.parse(r.body);
      } catch {
        return [`${where}: the ${type} body is not JSON`];
      }
    }
    const validateBody = this.#validator(schema);
    const out: string[] = [];
    if (!validateBody(value)) {
      for (const e of validateBody.errors ?? []) out.push(`${where}: body${e.instancePath} ${e.message}${e.params && Object.keys(e.params).length ? ` ${JSON.stringify(e.params)}` : ""}`);
    }
    if (type === "application/problem+json" && (value as Json)?.status !== r.status) out.push(`${where}: the problem's status ${(value as Json)?.status} is not the HTTP status`);
    return out;
  }

  #validator(schema: Json): ValidateFunction {
    const key = JSON.stringify(schema);
    let v = this.#compiled.get(key);
    if (!v) {
      if (this.#compiled.size >= MAX_COMPILED) this.#compiled.delete(this.#compiled.keys().next().value!);
      v = this.#ajv.compile(rewriteRefs(schema) as Json);
      this.#compiled.set(key, v);
    }
    return v;
  }
}

/** Every operation of the document as `METHOD path`, for coverage reports. */
export function operationsOf(doc: Json): string[] {
  return Object.entries(doc.paths ?? {}).flatMap(([path, item]) => METHODS.filter((m) => (item as Json)[m]).map((m) => `${m.toUpperCase()} ${path}`));
}
