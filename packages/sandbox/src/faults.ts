import { isCatalogCode } from "./codes.ts";
import { seededRandom } from "./random.ts";

/**
 * A fault to inject. It matches calls by endpoint and method, then fires on every match,
 * on a share of them (`rate`), and/or on the next `count` of them.
 *
 * - a catalogue code ("601", "604", "606", "1003"…): answered as a response-level error
 *   (HTTP 200, `success:false`);
 * - 500, 502, 503: that HTTP status with an HTML body, as a gateway answers;
 * - "reset": the socket is destroyed without an answer;
 * - "slow": the call is served normally, but only after `delayMs` (not scaled by timeScale,
 *   because it is meant to outlast a client's real timeout).
 */
export interface FaultSpec {
  code: string | number;
  /** Exact path, or a prefix of it (`/rest/v1/leads`). @default every path */
  endpoint?: string;
  /** @default every method */
  method?: "GET" | "POST" | "DELETE";
  /** Probability that a matching call is hit, 0..1, drawn from the seeded PRNG. @default 1 */
  rate?: number;
  /** Fire on the next N matching calls only, then disappear. @default unlimited */
  count?: number;
  /** For "slow": how long to wait before answering, in real ms. @default 30000 */
  delayMs?: number;
}

/** A fault as stored and listed: its spec, an id, and how many times it fired. */
export interface Fault {
  id: number;
  code: string;
  endpoint: string | undefined;
  method: string | undefined;
  rate: number;
  remaining: number | undefined;
  delayMs: number;
  fired: number;
}

const maxFaults = 1000;

const httpCodes = new Set(["500", "502", "503"]);

/** Checks a spec; throws TypeError naming the bad member. */
export function checkFault(spec: unknown): FaultSpec {
  if (typeof spec !== "object" || spec === null) throw new TypeError("fault must be an object");
  const s = spec as Record<string, unknown>;
  const code = String(s.code ?? "");
  if (!(isCatalogCode(code) || httpCodes.has(code) || code === "reset" || code === "slow")) {
    throw new TypeError(
      `fault.code ${JSON.stringify(s.code)} is not a catalogue code, 500, 502, 503, "reset" or "slow"`,
    );
  }
  if (s.endpoint !== undefined && (typeof s.endpoint !== "string" || !s.endpoint.startsWith("/"))) {
    throw new TypeError("fault.endpoint must be a path starting with /");
  }
  if (s.method !== undefined && !["GET", "POST", "DELETE"].includes(String(s.method))) {
    throw new TypeError("fault.method must be GET, POST or DELETE");
  }
  if (s.rate !== undefined && (typeof s.rate !== "number" || !(s.rate >= 0 && s.rate <= 1))) {
    throw new TypeError("fault.rate must be a number from 0 to 1");
  }
  if (s.count !== undefined && (!Number.isInteger(s.count) || (s.count as number) < 1)) {
    throw new TypeError("fault.count must be a positive integer");
  }
  if (s.delayMs !== undefined && (typeof s.delayMs !== "number" || !(s.delayMs >= 0))) {
    throw new TypeError("fault.delayMs must be a number ≥ 0");
  }
  return s as unknown as FaultSpec;
}

/** The set of active faults, with a seeded PRNG for faults by rate. */
export class FaultBook {
  #faults: Fault[] = [];
  #nextId = 1;
  #random: () => number;

  constructor(seed: number) {
    this.#random = seededRandom(seed);
  }

  /** Adds a fault (checked first) and returns it as stored. */
  add(spec: FaultSpec): Fault {
    checkFault(spec);
    // Every call walks the list, so it is kept to a size no test plan needs to exceed.
    if (this.#faults.length >= maxFaults)
      throw new TypeError(`at most ${maxFaults} faults may be active; clear some first`);
    const fault: Fault = {
      id: this.#nextId++,
      code: String(spec.code),
      endpoint: spec.endpoint,
      method: spec.method,
      rate: spec.rate ?? 1,
      remaining: spec.count,
      delayMs: spec.delayMs ?? 30_000,
      fired: 0,
    };
    this.#faults.push(fault);
    return fault;
  }

  /** Removes one fault by id; true if it existed. */
  remove(id: number): boolean {
    const before = this.#faults.length;
    this.#faults = this.#faults.filter((f) => f.id !== id);
    return this.#faults.length !== before;
  }

  /** Removes every fault. */
  clear(): void {
    this.#faults = [];
  }

  /** The active faults. */
  list(): Fault[] {
    return this.#faults.map((f) => ({ ...f }));
  }

  /** Restarts the PRNG, so a reset sandbox fires the same faults again. */
  reseed(seed: number): void {
    this.#random = seededRandom(seed);
  }

  /** The first fault that fires for this call, if any; counts it down. */
  draw(method: string, path: string): Fault | undefined {
    for (const fault of this.#faults) {
      if (fault.method !== undefined && fault.method !== method) continue;
      if (fault.endpoint !== undefined && !path.startsWith(fault.endpoint)) continue;
      if (fault.rate < 1 && this.#random() >= fault.rate) continue;
      fault.fired++;
      if (fault.remaining !== undefined) {
        fault.remaining--;
        if (fault.remaining <= 0) this.#faults = this.#faults.filter((f) => f !== fault);
      }
      return { ...fault };
    }
    return undefined;
  }
}
