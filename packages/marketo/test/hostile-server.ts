import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** One request as a hostile server saw it, body read in full. */
export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage["headers"];
  readonly body: string;
}

export type Handler = (req: Received, res: ServerResponse) => void;

export interface HostileServer {
  /** Every request received, in order of arrival. */
  readonly received: Received[];
  /** `http://127.0.0.1:port` */
  readonly url: string;
  /** Replaces the handler and forgets what was received. */
  answer(handler: Handler): void;
  close(): Promise<void>;
}

/** A node:http server on 127.0.0.1 port 0 whose every answer is written by the test. */
export async function hostileServer(): Promise<HostileServer> {
  const received: Received[] = [];
  let handler: Handler = (_req, res) => res.writeHead(404).end();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const seen: Received = {
        method: req.method ?? "",
        url: req.url ?? "",
        headers: req.headers,
        body: Buffer.concat(chunks).toString(),
      };
      received.push(seen);
      handler(seen, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    received,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    answer(next) {
      handler = next;
      received.length = 0;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Writes a JSON answer. */
export function json(res: ServerResponse, body: unknown, status = 200): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(typeof body === "string" ? body : JSON.stringify(body));
}

/** The identity answer of a valid token. */
export function token(res: ServerResponse, value = "tok-hostile:int"): void {
  json(res, { access_token: value, token_type: "bearer", expires_in: 3600, scope: "x" });
}

/**
 * Streams a body of `total` bytes (`{"a":"xxxx…` or any filler), 64 KiB at a time, stopping
 * as soon as the client drops the connection. Returns how many bytes were written by then.
 */
export function stream(
  res: ServerResponse,
  options: { status?: number; contentType?: string; total: number; head?: string },
): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, "x");
  res.writeHead(options.status ?? 200, {
    "content-type": options.contentType ?? "application/json",
    "content-length": String(options.total),
  });
  let written = 0;
  let closed = false;
  return new Promise<number>((resolve) => {
    res.on("close", () => {
      closed = true;
      resolve(written);
    });
    const head = Buffer.from(options.head ?? "");
    res.write(head);
    written += head.byteLength;
    const more = () => {
      while (!closed && written < options.total) {
        const part = chunk.subarray(0, Math.min(chunk.byteLength, options.total - written));
        written += part.byteLength;
        if (!res.write(part)) return void res.once("drain", more);
      }
      if (!closed) res.end();
    };
    more();
  });
}
