import type { Route } from "../route.ts";
import type { NewLead } from "./store.ts";

/** The email a lead is listed and searched by: the mapped one, else the raw one, in lower case. */
export function emailOf(lead: NewLead): string | null {
  const value = lead.input?.email ?? lead.raw.email;
  return typeof value === "string" && value !== "" ? value.toLowerCase() : null;
}

/** The program a lead is listed by: Push Lead's program name. */
export function programOf(route: Route): string | null {
  return route.endpoint === "pushLeads" ? route.programName : null;
}
