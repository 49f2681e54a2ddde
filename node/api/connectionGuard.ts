import type { Server } from "node:http";
import type { Socket } from "node:net";
import { clientAddress } from "./clientAddress.ts";
import type { HttpMetrics } from "./metrics.ts";

/** Limits of {@link guardConnections}. */
export interface ConnectionGuardLimits {
  /** Open connections at most (Node's `server.maxConnections`: more are closed on arrival). */
  maxConnections: number;
  /** Open connections per client address (IPv6: per /64) at most; more are closed on arrival. */
  maxConnectionsPerAddress: number;
  /** A connection that has not started a request by then is closed (Node's own timeouts only start with the first byte). */
  firstRequestTimeoutMs: number;
  /** True for an HTTPS server: the request arrives on the TLS socket, not the raw one. */
  tls: boolean;
  /** Where the figures go: open connections, refused ones by reason. */
  metrics?: HttpMetrics;
}

/**
 * Keeps idle or hoarded connections from using up the process's file descriptors (slowloris): a
 * total cap, a cap per client address so one client cannot take the whole total, and a deadline
 * for the first request. Node's `headersTimeout`, `requestTimeout` and `keepAliveTimeout` (set by
 * the server) close sockets that are slow once a request has started and idle ones between
 * requests; a socket that never sends a byte is closed here.
 *
 * Bounded: the per-address map holds only addresses with an open connection, so at most
 * `maxConnections` entries.
 */
export function guardConnections(server: Server, limits: ConnectionGuardLimits): void {
  if (!(limits.maxConnections >= 1) || !(limits.maxConnectionsPerAddress >= 1)) throw new RangeError("connection limits must be at least 1");
  server.maxConnections = limits.maxConnections;
  const perAddress = new Map<string, number>();
  const refused = { per_address: 0, total: 0 };
  let open = 0;
  const started = new WeakSet<Socket>();

  server.on("connection", (socket: Socket) => {
    const address = clientAddress(socket);
    const n = (perAddress.get(address) ?? 0) + 1;
    if (n > limits.maxConnectionsPerAddress) {
      refused.per_address++;
      socket.destroy();
      return;
    }
    perAddress.set(address, n);
    open++;
    socket.once("close", () => {
      open--;
      const left = perAddress.get(address)! - 1;
      if (left === 0) perAddress.delete(address);
      else perAddress.set(address, left);
    });
  });
  server.on("drop", () => void refused.total++);

  // The deadline for a first request, on the socket the requests arrive on. A socket that sent
  // part of its headers gets one more period, so Node's headersTimeout answers it 408 first.
  server.on(limits.tls ? "secureConnection" : "connection", (socket: Socket) => {
    if (socket.destroyed) return;
    let graced = false;
    const check = () => {
      if (started.has(socket)) return;
      if (socket.bytesRead > 0 && !graced) {
        graced = true;
        timer = setTimeout(afterPoll, limits.firstRequestTimeoutMs).unref();
        return;
      }
      socket.destroy();
    };
    // Timers run before the loop reads sockets: after a stall, look once bytes already sent are read.
    const afterPoll = () => void setImmediate(check);
    let timer = setTimeout(afterPoll, limits.firstRequestTimeoutMs).unref();
    socket.once("close", () => clearTimeout(timer));
  });
  server.on("request", (req: { socket: Socket }) => void started.add(req.socket));

  limits.metrics?.gauge("hulian_http_connections_open", "Open HTTP connections.", () => open);
  limits.metrics?.counter("hulian_http_connections_refused_total", "Connections closed on arrival, by the cap they hit (total or per address).", () => ({ ...refused }), "reason");
}
