import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { validateXML } from "xmllint-wasm";

const XSD = fileURLToPath(new URL("../fixtures/iso20022/camt.053.001.08.xsd", import.meta.url));
let schema: Promise<string> | undefined;

/** Validates a document against the official ISO 20022 camt.053.001.08 schema with xmllint; returns the errors. */
export async function camt053Errors(xml: string): Promise<string[]> {
  schema ??= readFile(XSD, "utf8");
  const result = await validateXML({ xml: [{ fileName: "statement.xml", contents: xml }], schema: [{ fileName: "camt.053.001.08.xsd", contents: await schema }] });
  return result.valid ? [] : result.errors.map((e) => e.rawMessage);
}
