import { readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { rootCertificates } from "node:tls";

/** TLS files of a node, as its config names them (PEM). */
export interface TlsFiles {
  /** The node's certificate (chain), PEM. */
  certFile: string;
  /** Its private key, PEM. */
  keyFile: string;
  /**
   * CA certificates that sign the other operators' node certificates: trusted, in addition to the
   * system's, when this node calls a peer node over HTTPS.
   */
  caFile?: string;
}

/** What `https.createServer` needs. */
export interface TlsServerOptions {
  cert: Buffer;
  key: Buffer;
  minVersion: "TLSv1.2" | "TLSv1.3";
}

/** Reads the node's certificate and key for its HTTPS listener. TLS 1.2 is the oldest it speaks. */
export async function loadTlsServerOptions(files: TlsFiles): Promise<TlsServerOptions> {
  const [cert, key] = await Promise.all([readFile(files.certFile), readFile(files.keyFile)]);
  return { cert, key, minVersion: "TLSv1.2" };
}

/** The `fetch` subset the directory client uses. */
export type PeerFetch = (url: URL | string, init: { method: string; headers: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

/**
 * A `fetch` for node-to-node calls that trusts `ca` (the CA that signs the peer operators' node
 * certificates) as well as the system's CAs, and verifies the peer's host name as usual. Node's
 * global `fetch` cannot be given a CA per call, hence this small client over `https.request`.
 *
 * @example
 * const peerFetch = createPeerFetch({ ca: await readFile("network-ca.pem") });
 * const directory = new DirectoryClient({ registry, account, walletId, fetch: peerFetch });
 */
export function createPeerFetch(options: { ca?: Buffer | string } = {}): PeerFetch {
  return (url, init) =>
    new Promise<Response>((resolve, reject) => {
      const target = typeof url === "string" ? new URL(url) : url;
      const secure = target.protocol === "https:";
      if (!secure && target.protocol !== "http:") return reject(new TypeError(`unsupported protocol ${target.protocol}`));
      const headers: Record<string, string | number> = { ...init.headers };
      if (init.body !== undefined) headers["content-length"] = Buffer.byteLength(init.body);
      const common = { method: init.method, headers, signal: init.signal };
      const req = secure
        ? httpsRequest(target, { ...common, ca: options.ca ? [options.ca, ...rootCertificates] : undefined, minVersion: "TLSv1.2" })
        : httpRequest(target, common);
      req.once("error", reject);
      req.once("response", (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.once("error", reject);
        res.once("end", () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(", ") : v);
          resolve(new Response(Buffer.concat(chunks), { status: res.statusCode ?? 500, headers: h }));
        });
      });
      req.end(init.body);
    });
}

/** Reads a CA bundle for {@link createPeerFetch}. */
export async function loadPeerFetch(caFile: string | undefined): Promise<PeerFetch | undefined> {
  return caFile ? createPeerFetch({ ca: await readFile(caFile) }) : undefined;
}
