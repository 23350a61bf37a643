import type { Destination, Gateway } from "../gateway.ts";
import type { Issue } from "./errors.ts";

/**
 * The named destination, or the only one; otherwise the issue to answer with 400. Found by name
 * (every intake request asks): the list of names is made only for the message.
 */
export function chooseDestination(
  gateway: Gateway,
  name: string | undefined,
): { readonly destination: Destination } | { readonly issue: Issue } {
  if (name !== undefined) {
    const found = gateway.findDestination(name);
    if (found) return { destination: found };
    const known = gateway.destinations.map((d) => d.name);
    return {
      issue: {
        path: "destination",
        message: `no destination named "${name}" (configured: ${known.join(", ")})`,
      },
    };
  }
  const known = gateway.destinations.map((d) => d.name);
  if (known.length !== 1) {
    return {
      issue: {
        path: "destination",
        message: `required with several destinations: ${known.join(", ")}`,
      },
    };
  }
  return { destination: gateway.destination() };
}
