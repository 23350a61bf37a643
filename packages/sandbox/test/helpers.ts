import { after } from "node:test";
import {
  type Sandbox,
  type SandboxInstance,
  type SandboxOptions,
  startSandbox,
} from "../src/index.ts";

/**
 * A sandbox for one test file, fast and with a frozen clock by default (time moves only
 * when a test moves it, however slow the machine), closed after the file.
 */
export async function sandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const sb = await startSandbox({
    latency: false,
    timeScale: 0.01,
    seed: 7,
    freezeClock: true,
    ...options,
  });
  after(() => sb.close());
  return sb;
}

/** Gets a token the documented way (§2.1). */
export async function token(sb: SandboxInstance): Promise<string> {
  const q = new URLSearchParams({
    grant_type: "client_credentials",
    client_id: sb.clientId,
    client_secret: sb.clientSecret,
  });
  const res = await fetch(`${sb.url}/identity/oauth/token?${q}`);
  const body = (await res.json()) as { access_token: string };
  return body.access_token;
}

/** An envelope as the tests read it. */
export interface Body {
  requestId: string;
  success: boolean;
  result?: Array<Record<string, unknown>>;
  errors?: Array<{ code: string; message: string }>;
  warnings?: unknown[];
  nextPageToken?: string;
  moreResult?: boolean;
}

/** Calls a REST path with a Bearer token; JSON bodies are sent as application/json. */
export async function call(
  sb: SandboxInstance,
  tokenValue: string | undefined,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; body: Body; text: string }> {
  const h: Record<string, string> = { ...headers };
  if (tokenValue !== undefined) h.authorization = `Bearer ${tokenValue}`;
  let payload: string | undefined;
  if (body !== undefined) {
    payload = typeof body === "string" ? body : JSON.stringify(body);
    h["content-type"] ??= "application/json";
  }
  const init: RequestInit = { method, headers: h };
  if (payload !== undefined) init.body = payload;
  const res = await fetch(`${sb.url}${path}`, init);
  const text = await res.text();
  let parsed: Body;
  try {
    parsed = JSON.parse(text) as Body;
  } catch {
    parsed = { requestId: "", success: false };
  }
  return { status: res.status, body: parsed, text };
}

/** The first error code of an envelope, or undefined. */
export function errorCode(body: Body): string | undefined {
  return body.errors?.[0]?.code;
}

/** The reason codes of each result item ("created", "updated" or the skip code). */
export function outcomes(body: Body): string[] {
  return (body.result ?? []).map((r) => {
    const reasons = (r.reasons ?? r.errors) as Array<{ code: string }> | undefined;
    return r.status === "skipped" ? (reasons?.[0]?.code ?? "skipped") : String(r.status);
  });
}

/** Waits until `condition` holds, checking every few ms; fails after `timeoutMs`. */
export async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
