import type { WaitingLeads } from "../store/destination-catalog.ts";

/**
 * A request about destinations that cannot be done as asked: a usage mistake, not a failure
 * (HTTP 4xx, CLI exit 2). Callers branch on the class or `code`, never on the message.
 */
export class DestinationError extends Error {
  override name = "DestinationError";
  readonly code:
    | "unknown"
    | "taken"
    | "read-only"
    | "waiting"
    | "held-elsewhere"
    | "instance-change";
  /** The destination's name. */
  readonly destination: string | undefined;

  constructor(
    code: DestinationError["code"],
    message: string,
    destination: string | undefined = undefined,
  ) {
    super(message);
    this.code = code;
    this.destination = destination;
  }
}

/** No destination of that name (or none chosen among several). */
export class UnknownDestinationError extends DestinationError {
  override name = "UnknownDestinationError";
  constructor(message: string, destination?: string) {
    super("unknown", message, destination);
  }
}

/** A destination of that name exists already (stored, or in the config file or environment). */
export class DestinationTakenError extends DestinationError {
  override name = "DestinationTakenError";
  constructor(name: string, source: "config" | "api") {
    super(
      "taken",
      source === "config"
        ? `a destination named "${name}" comes from the config file or the environment; choose another name`
        : `a destination named "${name}" exists already; choose another name, or edit that one`,
      name,
    );
  }
}

/** The destination comes from the config file or the environment: it is changed there. */
export class ReadOnlyDestinationError extends DestinationError {
  override name = "ReadOnlyDestinationError";
  constructor(name: string) {
    super(
      "read-only",
      `the destination "${name}" comes from the config file or the environment (MARKETO_*): edit the file or the variables and restart, not through the API`,
      name,
    );
  }
}

/** Removal refused: leads are still waiting to be sent. */
export class LeadsWaitingError extends DestinationError {
  override name = "LeadsWaitingError";
  readonly waiting: WaitingLeads;
  readonly total: number;
  constructor(name: string, waiting: WaitingLeads, total: number) {
    const parts = Object.entries(waiting)
      .filter(([, n]) => n > 0)
      .map(([status, n]) => `${n} ${status}`);
    super(
      "waiting",
      `the destination "${name}" has ${total} lead(s) waiting (${parts.join(", ")}): remove it keeping them paused until a destination of this name is created again (API: ?waiting=pause; CLI: --waiting pause), or wait until they are sent`,
      name,
    );
    this.waiting = waiting;
    this.total = total;
  }
}

/**
 * A removed name is created again for another Marketo instance while leads held by its removal
 * wait: they were meant for the first instance and are never sent to another customer's.
 */
export class HeldForAnotherInstanceError extends DestinationError {
  override name = "HeldForAnotherInstanceError";
  constructor(name: string, held: { readonly baseUrl: string; readonly leads: number }) {
    super(
      "held-elsewhere",
      `${held.leads} lead(s) of the removed destination "${name}" are held for the Marketo instance at ${held.baseUrl}: create "${name}" again with that base URL to send them there, or choose another name for the new instance`,
      name,
    );
  }
}

/**
 * An edit moves a destination to another Marketo instance while leads accepted for the first
 * one wait: they would be sent, or verified, against the wrong customer's Marketo.
 */
export class InstanceChangeError extends DestinationError {
  override name = "InstanceChangeError";
  constructor(name: string, held: { readonly baseUrl: string; readonly leads: number }) {
    super(
      "instance-change",
      `the destination "${name}" has ${held.leads} lead(s) waiting that were accepted for the Marketo instance at ${held.baseUrl}: wait until they are sent, or connect the new instance under another name`,
      name,
    );
  }
}

/** True for any {@link DestinationError}, also across realms (checks `name`). */
export function isDestinationError(error: unknown): error is DestinationError {
  const name = (error as { name?: unknown } | null)?.name;
  return (
    error instanceof DestinationError ||
    name === "DestinationError" ||
    name === "UnknownDestinationError" ||
    name === "DestinationTakenError" ||
    name === "ReadOnlyDestinationError" ||
    name === "LeadsWaitingError" ||
    name === "HeldForAnotherInstanceError" ||
    name === "InstanceChangeError"
  );
}
