import { AMOUNT_NOT_STRING, AMOUNT_PATTERN } from "./amounts.ts";
import type { FieldError } from "./problem.ts";

/**
 * A small subset of JSON Schema (2020-12), enough for request bodies. The same object validates
 * requests here and is published unchanged in the OpenAPI document, so the two cannot drift.
 *
 * Every string must be well-formed Unicode: a lone UTF-16 surrogate (`"\ud800"`, which JSON can
 * carry as an escape) has no UTF-8 encoding, so it would be stored as sent but hashed as U+FFFD,
 * and two different memos would commit to one memo hash.
 *
 * `format` values checked here ({@link STRING_FORMATS} describes them in the OpenAPI document):
 * `amount` (decimal string of minor units), `handle` (a customer handle), `address` (a handle or
 * `handle@WALLET`), `wallet-address` (`handle@WALLET` only), `text` (not blank, no control
 * characters), `name` (`text`, and no invisible bidi marks or zero-width characters either).
 */
export type Schema = ObjectSchema | StringSchema | IntegerSchema | BooleanSchema | ArraySchema;

/** An object with known properties; unknown properties are rejected unless `additionalProperties` is true. */
export interface ObjectSchema {
  type: "object";
  properties: Record<string, Schema>;
  required?: readonly string[];
  additionalProperties?: boolean;
  description?: string;
}

/** A string; lengths count Unicode code points. */
export interface StringSchema {
  type: "string";
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  format?: StringFormat;
  enum?: readonly string[];
  description?: string;
  examples?: readonly string[];
}

/** An integer (JSON number without fraction). */
export interface IntegerSchema {
  type: "integer";
  minimum?: number;
  maximum?: number;
  description?: string;
}

/**
 * An array of `minItems`–`maxItems` elements. With `x-items-checked-by-handler`, only the array
 * and the JSON type of each element (`items.type`) are checked here; the rest of each element is
 * left to the route, which accepts or refuses the elements one by one (a bulk request). `items`
 * still documents what an element must be.
 */
export interface ArraySchema {
  type: "array";
  items: Schema;
  minItems?: number;
  maxItems?: number;
  "x-items-checked-by-handler"?: boolean;
  description?: string;
}

/** A boolean. */
export interface BooleanSchema {
  type: "boolean";
  description?: string;
}

/** The string formats {@link validate} knows. */
export type StringFormat = "amount" | "handle" | "address" | "wallet-address" | "text" | "name";

/**
 * What each {@link StringFormat} means, as the OpenAPI document publishes it (`x-formats`), so an
 * integrator's validator can define the same formats.
 */
export const STRING_FORMATS: Readonly<Record<StringFormat, string>> = {
  amount: "A positive whole number of minor units as a decimal string without sign, leading zero or exponent (^[1-9][0-9]{0,17}$).",
  handle: "A customer handle: an E.164 phone number (spaces, dashes, dots and brackets allowed), an email address, or a user name of 2-32 lower-case letters, digits, `.`, `_`, `-`; compared after NFKC, trimming and lower-casing.",
  address: "A `handle` of this wallet, or `handle@WALLET` (WALLET: 1-24 of A-Z a-z 0-9 _ -).",
  "wallet-address": "`handle@WALLET` only.",
  text: "Free text: not blank; no C0/C1 control characters, DEL, line or paragraph separators, bidi embeddings, overrides or isolates (U+202A-U+202E, U+2066-U+2069).",
  name: "A person's or business's name: `text`, and no invisible bidi marks (U+061C, U+200E, U+200F) or zero-width characters (U+200B, U+2060-U+2064, U+FEFF) either, so a name cannot be made to read as another.",
};

// Mirrors node/ledger/handles.ts (test/api/validate.test.ts checks the two agree). The API only
// rejects what can never be a handle; the ledger normalises and has the final word.
const PHONE = /^\+[1-9][0-9]{6,14}$/;
const EMAIL = /^[^\s@!]+@[^\s@!]+\.[^\s@!]+$/;
const USERNAME = /^[\p{Ll}\p{Lo}0-9][\p{Ll}\p{Lo}0-9._-]{1,31}$/u;
const WALLET_CODE = /^[A-Za-z0-9_-]{1,24}$/;
// C0/C1 controls, DEL, line/paragraph separators, bidi overrides and isolates.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/u;
// Invisible marks that reorder or hide text without being controls: harmless in a memo, a
// spoofing tool in a name shown to payers (`YAPILA` drawn as another operator's name).
const INVISIBLE = /[\u061c\u200b\u200e\u200f\u2060-\u2064\ufeff]/u;

/** The message of a string that is not well-formed Unicode (pinned in tests; API clients read it). */
export const ILL_FORMED_MESSAGE = "must be well-formed Unicode (no lone UTF-16 surrogates such as \\ud800)";

/**
 * Whether `value` is well-formed Unicode: no lone UTF-16 surrogate. Such a string has no UTF-8
 * form; TextEncoder turns each lone surrogate into U+FFFD, so distinct strings would encode (and
 * hash) alike.
 */
export function isWellFormed(value: string): boolean {
  return (value as string & { isWellFormed(): boolean }).isWellFormed();
}

/**
 * Whether `raw` is a customer handle: an E.164 phone number (spaces, dashes, dots and brackets
 * allowed), an email address or a user name of 2–32 letters, digits, `.`, `_`, `-`; compared
 * after NFKC, trimming and lower-casing, as the ledger does.
 */
export function isHandle(raw: string): boolean {
  if (raw.length > 254 || !isWellFormed(raw)) return false;
  const base = raw.normalize("NFKC").trim().toLowerCase();
  if (base.startsWith("+")) return PHONE.test(base.replace(/[\s\-.()]/g, ""));
  if (base.includes("@")) return EMAIL.test(base);
  return USERNAME.test(base);
}

/** Splits `handle@WALLET` at its last `@` when the tail is a wallet code; otherwise `undefined`. */
export function splitWalletAddress(raw: string): { handle: string; wallet: string } | undefined {
  const at = raw.lastIndexOf("@");
  if (at <= 0) return undefined;
  const handle = raw.slice(0, at);
  const wallet = raw.slice(at + 1).trim();
  if (!WALLET_CODE.test(wallet) || !isHandle(handle)) return undefined;
  return { handle, wallet };
}

/**
 * Validates `value` against `schema` and returns every problem found (empty when valid). Paths
 * use dots (`payee.handle`); the root is `body`.
 *
 * @example
 * validate({ type: "object", properties: { n: { type: "string" } }, required: ["n"] }, {})
 * // [{ field: "n", message: "is required" }]
 */
export function validate(schema: Schema, value: unknown, path = ""): FieldError[] {
  const errors: FieldError[] = [];
  check(schema, value, path, errors);
  return errors;
}

// Compiled once per pattern, not once per request.
const patterns = new Map<string, RegExp>();
function compiled(pattern: string): RegExp {
  let re = patterns.get(pattern);
  if (re === undefined) patterns.set(pattern, (re = new RegExp(pattern, "u")));
  return re;
}
const AMOUNT = new RegExp(AMOUNT_PATTERN);
const SURROGATE = /[\uD800-\uDFFF]/;

/** Length in code points; without surrogates it is the UTF-16 length, no copy needed. */
function codePoints(value: string): number {
  return SURROGATE.test(value) ? [...value].length : value.length;
}

/**
 * The sorted names of every property `schema` allows at any depth, when it is closed (no
 * `additionalProperties: true`, no elements left to the handler): then every object of a body
 * that passed {@link validate} has only these keys, which is what `fastCanonicalJson` needs.
 * `undefined` for open schemas.
 */
export function closedKeys(schema: Schema): string[] | undefined {
  const out = new Set<string>();
  const walk = (s: Schema): boolean => {
    if (s.type === "array") return s["x-items-checked-by-handler"] !== true && walk(s.items);
    if (s.type !== "object") return true;
    if (s.additionalProperties === true) return false;
    for (const [name, sub] of Object.entries(s.properties)) {
      if (name === "__proto__") return false;
      out.add(name);
      if (!walk(sub)) return false;
    }
    return true;
  };
  return walk(schema) ? [...out].sort() : undefined;
}

function check(schema: Schema, value: unknown, path: string, errors: FieldError[]): void {
  const field = path === "" ? "body" : path;
  const fail = (message: string): void => {
    errors.push({ field, message });
  };
  switch (schema.type) {
    case "object": {
      if (value === null || typeof value !== "object" || Array.isArray(value)) return fail("must be a JSON object");
      const record = value as Record<string, unknown>;
      for (const name of schema.required ?? []) {
        if (!Object.hasOwn(record, name) || record[name] === undefined) {
          errors.push({ field: join(path, name), message: "is required" });
        }
      }
      for (const name of Object.keys(record)) {
        const sub = Object.hasOwn(schema.properties, name) ? schema.properties[name] : undefined;
        if (sub) check(sub, record[name], join(path, name), errors);
        else if (schema.additionalProperties !== true) errors.push({ field: join(path, name), message: "is not allowed" });
      }
      return;
    }
    case "array": {
      if (!Array.isArray(value)) return fail("must be an array");
      if (schema.minItems !== undefined && value.length < schema.minItems) {
        return fail(schema.minItems === 1 ? "must not be empty" : `must have at least ${schema.minItems} items`);
      }
      if (schema.maxItems !== undefined && value.length > schema.maxItems) return fail(`must have at most ${schema.maxItems} items`);
      if (schema["x-items-checked-by-handler"] === true) {
        for (let i = 0; i < value.length; i++) {
          const type = jsonType(value[i]);
          if (type !== schema.items.type) {
            errors.push({ field: join(path, String(i)), message: TYPE_MESSAGES[schema.items.type] });
          }
        }
        return;
      }
      for (let i = 0; i < value.length; i++) check(schema.items, value[i], join(path, String(i)), errors);
      return;
    }
    case "string": {
      if (typeof value !== "string") {
        return fail(schema.format === "amount" && typeof value === "number" ? AMOUNT_NOT_STRING : "must be a string");
      }
      if (!isWellFormed(value)) return fail(ILL_FORMED_MESSAGE);
      const length = codePoints(value);
      if (schema.minLength !== undefined && length < schema.minLength) {
        return fail(schema.minLength === 1 ? "must not be empty" : `must be at least ${schema.minLength} characters`);
      }
      if (schema.maxLength !== undefined && length > schema.maxLength) return fail(`must be at most ${schema.maxLength} characters`);
      if (schema.enum && !schema.enum.includes(value)) return fail(`must be one of ${schema.enum.join(", ")}`);
      if (schema.pattern !== undefined && !compiled(schema.pattern).test(value)) {
        return fail(schema.format === "amount" ? `must be a positive whole number of minor units (${AMOUNT_PATTERN})` : `must match ${schema.pattern}`);
      }
      if (schema.format !== undefined) {
        const message = checkFormat(schema.format, value);
        if (message) return fail(message);
      }
      return;
    }
    case "integer":
      if (typeof value !== "number" || !Number.isSafeInteger(value)) return fail("must be an integer");
      if (schema.minimum !== undefined && value < schema.minimum) return fail(`must be at least ${schema.minimum}`);
      if (schema.maximum !== undefined && value > schema.maximum) return fail(`must be at most ${schema.maximum}`);
      return;
    case "boolean":
      if (typeof value !== "boolean") fail("must be true or false");
      return;
  }
}

/**
 * Why `value` is not of `format`, or `undefined` when it is (the message {@link validate} gives).
 * Exported so a JSON Schema validator can define the same formats (test/api/openapiCheck.ts).
 */
export function checkFormat(format: StringFormat, value: string): string | undefined {
  switch (format) {
    case "amount":
      return AMOUNT.test(value) ? undefined : `must be a positive whole number of minor units (${AMOUNT_PATTERN})`;
    case "text":
      if (CONTROL.test(value)) return "must not contain control characters";
      return value.trim() === "" ? "must not be blank" : undefined;
    case "name":
      if (CONTROL.test(value)) return "must not contain control characters or bidi overrides";
      if (INVISIBLE.test(value)) return "must not contain invisible bidi marks or zero-width characters";
      return value.trim() === "" ? "must not be blank" : undefined;
    case "handle":
      return isHandle(value) ? undefined : "must be a phone number (+8613800000000), an email address or a user name";
    case "address":
      return isHandle(value) || splitWalletAddress(value) ? undefined : "must be a handle or handle@WALLET";
    case "wallet-address":
      return splitWalletAddress(value) ? undefined : "must be handle@WALLET";
  }
}

const TYPE_MESSAGES: Record<Schema["type"], string> = {
  object: "must be a JSON object",
  array: "must be an array",
  string: "must be a string",
  integer: "must be an integer",
  boolean: "must be true or false",
};

function jsonType(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "array";
  if (typeof v === "number") return Number.isSafeInteger(v) ? "integer" : "number";
  return typeof v;
}

function join(path: string, name: string): string {
  return path === "" ? name : `${path}.${name}`;
}
