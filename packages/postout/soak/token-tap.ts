import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** Collects every access token the identity service hands out, read off its answers. */
export class IssuedTokens {
  readonly #tokens = new Set<string>();

  /** Records the token of an identity answer's body, if it has one. */
  note(body: string): void {
    try {
      const token = (JSON.parse(body) as { access_token?: unknown }).access_token;
      if (typeof token === "string" && token !== "") this.#tokens.add(token);
    } catch {
      // Not JSON (an HTML 5xx page, a reset): no token was issued.
    }
  }

  get all(): readonly string[] {
    return [...this.#tokens];
  }

  /** A fetch for an in-process client that records the tokens it is issued. */
  fetch(): typeof fetch {
    return (async (url: string | URL | Request, init?: RequestInit) => {
      const response = await fetch(url, init);
      if (String(url instanceof Request ? url.url : url).includes("/identity/")) {
        this.note(await response.clone().text());
      }
      return response;
    }) as typeof fetch;
  }
}

/**
 * A recording proxy in front of a Marketo (the sandbox process) for a gateway that runs as a
 * subprocess: it forwards every call unchanged and learns each token from the identity answers.
 * It lives in the test's process, so like Marketo it outlives a `kill -9` of the gateway, and a
 * call already forwarded still runs to the end when the caller dies.
 */
export async function startTokenTap(
  upstream: string,
  tokens: IssuedTokens,
): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      void forward(req, Buffer.concat(chunks), res);
    });
    req.on("error", () => {});
  });
  async function forward(req: IncomingMessage, body: Buffer, res: ServerResponse) {
    res.on("error", () => {});
    try {
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) {
        if (v === undefined || k === "host" || k === "connection" || k === "content-length")
          continue;
        headers.set(k, Array.isArray(v) ? v.join(", ") : v);
      }
      const answer = await fetch(`${upstream}${req.url ?? "/"}`, {
        method: req.method ?? "GET",
        headers,
        ...(body.length > 0 ? { body } : {}),
      });
      const text = Buffer.from(await answer.arrayBuffer());
      if ((req.url ?? "").startsWith("/identity/")) tokens.note(text.toString("utf8"));
      const out: Record<string, string> = {};
      answer.headers.forEach((v, k) => {
        if (k !== "content-encoding" && k !== "content-length" && k !== "transfer-encoding")
          out[k] = v;
      });
      if (!res.destroyed) res.writeHead(answer.status, out).end(text);
    } catch {
      // The sandbox reset the connection (a "reset" fault): do the same to the caller.
      res.destroy();
    }
  }
  const address = await new Promise<AddressInfo>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve(server.address() as AddressInfo));
  });
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
