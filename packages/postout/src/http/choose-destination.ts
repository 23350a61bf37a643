import type { Destination, Gateway } from "../gateway.ts";
import type { Issue } from "./errors.ts";

/** The named destination, or the only one; otherwise the issue to answer with 400. */
export function chooseDestination(
  gateway: Gateway,
  name: string | undefined,
): { readonly destination: Destination } | { readonly issue: Issue } {
  const known = gateway.destinations.map((d) => d.name);
  if (name === undefined && known.length !== 1) {
    return {
      issue: {
        path: "destination",
        message: `required with several destinations: ${known.join(", ")}`,
      },
    };
  }
  if (name !== undefined && !known.includes(name)) {
    return {
      issue: {
        path: "destination",
        message: `no destination named "${name}" (configured: ${known.join(", ")})`,
      },
    };
  }
  return { destination: gateway.destination(name) };
}
