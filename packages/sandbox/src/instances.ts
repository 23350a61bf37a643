import { Clock } from "./clock.ts";
import { Core } from "./core.ts";
import {
  maxInstances,
  type ResolvedOptions,
  randomSecret,
  resolveOptions,
  type SandboxOptions,
} from "./options.ts";

/** Where a request goes: the instance, its path there and the prefix it came under. */
export interface Routed {
  core: Core;
  path: string;
  prefix: string;
}

/** One instance's address and credentials, known from the start; its state comes later. */
interface Slot {
  /** Its id in the path, zero-padded: `0007`. */
  readonly id: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** Its own options when `instances` listed them; otherwise the root's, with its credentials. */
  readonly options: ResolvedOptions | undefined;
  /** The clock as it stood at start; the instance runs on a fork of it. */
  readonly start: Clock;
  core: Core | undefined;
}

/** An instance as `GET /_sandbox/instances` lists it. */
export interface InstanceListing {
  url: string;
  clientId: string;
  clientSecret: string;
  /** Whether its state exists yet (made on its first request or control call). */
  created: boolean;
}

const prefixStart = "/i/";

/**
 * The Marketo instances of one sandbox: the root, eager, and the numbered ones under
 * `/i/NNNN`, each made on first use so that a thousand cost little until they are used.
 */
export class Instances {
  readonly root: Core;
  /** The largest URI limit of any instance: the server must let such a request reach us. */
  readonly maxUriBytes: number;
  readonly #slots: Slot[];
  readonly #template: ResolvedOptions;
  readonly #width: number;

  constructor(options: SandboxOptions, root: ResolvedOptions) {
    this.root = new Core(root);
    this.#template = root;
    const spec = options.instances ?? 0;
    const count = typeof spec === "number" ? spec : spec.length;
    if (!Number.isInteger(count) || count < 0 || count > maxInstances) {
      throw new TypeError(`instances must be a whole number from 0 to ${maxInstances}`);
    }
    this.#width = Math.max(4, String(count - 1).length);
    // Every instance of a count starts at the root's start time; one prototype serves them all.
    const start = new Clock(root.clock, root.freezeClock);
    const { clientId, clientSecret, seed, port, host, instances, ...shared } = options;
    this.#slots = Array.from({ length: count }, (_, index) => {
      const id = String(index).padStart(this.#width, "0");
      const entry = typeof spec === "number" ? undefined : spec[index];
      if (entry === undefined) {
        return {
          id,
          clientId: crypto.randomUUID(),
          clientSecret: randomSecret(),
          options: undefined,
          start,
          core: undefined,
        };
      }
      // Checked now, so a bad entry fails the start, not the instance's first request.
      const own = resolveOptions({ ...shared, seed: seedOf(root, index), ...entry });
      return {
        id,
        clientId: own.clientId,
        clientSecret: own.clientSecret,
        options: own,
        start: new Clock(own.clock, own.freezeClock),
        core: undefined,
      };
    });
    this.maxUriBytes = this.#slots.reduce(
      (max, slot) => Math.max(max, uriLimit(slot)),
      root.maxUriBytes,
    );
  }

  /** How many numbered instances there are. */
  get count(): number {
    return this.#slots.length;
  }

  /** The path prefix of instance `index`: `/i/0007`. */
  prefix(index: number): string {
    return `${prefixStart}${this.#slot(index).id}`;
  }

  /** Instance `index`'s credentials. */
  credentials(index: number): { clientId: string; clientSecret: string } {
    const { clientId, clientSecret } = this.#slot(index);
    return { clientId, clientSecret };
  }

  /** Instance `index`'s state, made now if this is its first use. */
  core(index: number): Core {
    const slot = this.#slot(index);
    slot.core ??= new Core(
      slot.options ?? {
        ...this.#template,
        clientId: slot.clientId,
        clientSecret: slot.clientSecret,
        seed: seedOf(this.#template, index),
      },
      slot.start.fork(),
    );
    return slot.core;
  }

  /**
   * The instance a request path is for, or undefined for a prefix that names none (as a
   * wrong Marketo host). Without numbered instances every path is the root's, as always.
   */
  route(path: string): Routed | undefined {
    if (this.#slots.length === 0 || !path.startsWith(prefixStart)) {
      return { core: this.root, path, prefix: "" };
    }
    const end = path.indexOf("/", prefixStart.length);
    const id = path.slice(prefixStart.length, end === -1 ? undefined : end);
    const index = this.#indexOf(id);
    if (index === undefined) return undefined;
    const prefix = `${prefixStart}${id}`;
    return { core: this.core(index), path: path.slice(prefix.length) || "/", prefix };
  }

  /** Every numbered instance with its URL under `origin` and its credentials. */
  list(origin: string): InstanceListing[] {
    return this.#slots.map((slot) => ({
      url: `${origin}${prefixStart}${slot.id}`,
      clientId: slot.clientId,
      clientSecret: slot.clientSecret,
      created: slot.core !== undefined,
    }));
  }

  // Only the exact padded form names an instance: `/i/7` is as unknown as `/i/9999` would be.
  #indexOf(id: string): number | undefined {
    if (id.length !== this.#width || !/^\d+$/.test(id)) return undefined;
    const index = Number(id);
    return index < this.#slots.length ? index : undefined;
  }

  #slot(index: number): Slot {
    const slot = this.#slots[index];
    if (slot === undefined) throw new RangeError(`no instance ${index}`);
    return slot;
  }
}

// Each instance draws its faults from its own stream, reproducibly from the root's seed.
function seedOf(root: ResolvedOptions, index: number): number {
  return (root.seed + index + 1) % 2 ** 32;
}

function uriLimit(slot: Slot): number {
  return slot.options?.maxUriBytes ?? 0;
}
