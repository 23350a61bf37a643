import type { RetryOptions } from "@postout/marketo";
import { SANDBOX_DESTINATION } from "./config.ts";
import type { Gateway } from "./gateway.ts";
import { parseFieldMap } from "./mapping/field-map.ts";
import { saveMapFile } from "./mapping/map-files.ts";
import { preparer } from "./prepare.ts";
import type { Route } from "./route.ts";

const FIRST = [
  "Ana",
  "Ben",
  "Chloé",
  "Dmitri",
  "Esi",
  "Farah",
  "Gus",
  "Hana",
  "Ivo",
  "Jia",
  "Kofi",
  "Lena",
];
const LAST = [
  "Okafor",
  "Lindqvist",
  "García",
  "Nakamura",
  "Brennan",
  "Haddad",
  "Kowalski",
  "Mensah",
];
const COMPANIES = [
  "Northwind",
  "Globex",
  "Initech",
  "Umbrella Health",
  "Stark Logistics",
  "Wayne Media",
];
const STATES = ["CA", "NY", "TX", "WA", "IL"];

/**
 * The webinar platform's export columns, mapped to Marketo fields (seed 003's input field
 * map), as a map file holds it. "Job Role" → `role` is the mistake the demo shows: the
 * sandbox has no `role` field (its `title` is the job title).
 */
export const DEMO_MAP_JSON = {
  fields: {
    "Email Address": "email",
    "First Name": "firstName",
    "Last Name": "lastName",
    Company: "company",
    State: "state",
    "Lead Score": "leadScore",
    "Job Role": "role",
  },
  values: {
    state: {
      map: { CA: "California", NY: "New York", TX: "Texas", WA: "Washington", IL: "Illinois" },
      caseInsensitive: true,
    },
  },
  unmapped: "drop",
} as const;

export const DEMO_MAP = parseFieldMap(DEMO_MAP_JSON, "demo field map");

/**
 * The demo's client retries: 3 tries a call, a fraction of a second apart. Its outage leads
 * show the calls the client sent again and then the gateway's own retry schedule, without
 * the default backoff (6 tries, up to 30 s apart) holding the start for a minute.
 */
export const DEMO_CLIENT_RETRY = {
  maxAttempts: 3,
  baseDelayMs: 100,
  maxDelayMs: 400,
} satisfies RetryOptions;

/** A webinar sign-up row as a lead platform exports it. */
function row(i: number, extra: Record<string, string> = {}): Record<string, string> {
  const first = FIRST[i % FIRST.length] as string;
  const last = LAST[(i * 7) % LAST.length] as string;
  const company = COMPANIES[(i * 5) % COMPANIES.length] as string;
  return {
    "Email Address": `${first.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()}.${last.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase()}${i}@${company.split(" ")[0]?.toLowerCase()}.example`,
    "First Name": first,
    "Last Name": last,
    Company: company,
    State: STATES[i % STATES.length] as string,
    "Lead Score": String(10 + (i % 40)),
    "Job Role": "",
    ...extra,
  };
}

const PROGRAM = "2026 Q3 Product Webinar";

/**
 * Posts a realistic sample into the built-in sandbox: most leads are delivered, and some fail
 * the ways Marketo makes leads fail — an unknown field (1006) and a wrong type (1001) caught
 * by preflight, a program status the channel lacks (1025), a createOnly lead that exists
 * (1005), and a Marketo outage (503) that leaves leads retrying.
 */
export interface DemoOptions {
  /**
   * Where the demo's field map is saved as a map file, so its leads remember it (the
   * dashboard shows it, and a repost with an edited map fixes the 1006 lead).
   * @default none: the leads have no map file, and a repost without a map uses the identity map
   */
  readonly mapDir?: string;
}

export async function runDemo(gateway: Gateway, options: DemoOptions = {}): Promise<number[]> {
  const sandbox = gateway.sandbox;
  if (!sandbox) throw new Error("the demo runs only against the built-in sandbox");
  // By name: destinations connected at runtime may stand beside the built-in sandbox.
  const destination = gateway.destination(SANDBOX_DESTINATION.name);
  const schema = (options?: { readonly refresh?: boolean }) => destination.schema(options);
  const mapPath =
    options.mapDir === undefined ? undefined : saveMapFile(options.mapDir, DEMO_MAP_JSON);
  const ids: number[] = [];
  const post = async (route: Route, rows: Record<string, string>[]) => {
    const prepare = preparer({ map: DEMO_MAP, route, schema });
    const result = await gateway.accept(
      rows.map((raw, line) => ({ raw, line: line + 2 })),
      {
        destination: destination.name,
        route,
        prepare,
        source: "demo",
        ...(mapPath === undefined ? {} : { mapPath }),
      },
    );
    ids.push(...result.ids);
    await destination.dispatcher.drain();
  };

  const registered: Route = {
    endpoint: "pushLeads",
    programName: PROGRAM,
    source: "ON24",
    reason: "Webinar registration",
    programStatus: "Registered",
  };
  await post(registered, [
    ...Array.from({ length: 30 }, (_, i) => row(i)),
    row(30, { "Job Role": "VP Marketing" }), // 1006: `role` is not a field of this instance
    row(31, { "Job Role": "CTO" }),
    row(32, { "Lead Score": "twelve" }), // 1001: leadScore is an integer
  ]);
  // 1025: "Attended Twice" is not a status of the Webinar channel.
  await post({ ...registered, programStatus: "Attended Twice" }, [row(33), row(34)]);
  // 1005: createOnly, and these leads were pushed above.
  await post({ endpoint: "syncLeads", action: "createOnly", lookupField: "email" }, [
    row(0),
    row(1),
  ]);
  // A Marketo outage: every call answers 503 until it ends, so these leads wait for a retry.
  sandbox.faults.add({ code: 503, endpoint: "/rest/v1/leads.json", method: "POST", count: 1000 });
  await post({ endpoint: "syncLeads", action: "createOrUpdate", lookupField: "email" }, [
    row(40),
    row(41),
    row(42),
  ]);
  sandbox.faults.clear();
  return ids;
}
