import assert from "node:assert/strict";
import { createRequire } from "node:module";
import { describe, test } from "node:test";
import { sandbox } from "./helpers.ts";

// The unmodified `node-marketo-rest` from npm, loaded as its users load it (CommonJS).
const require = createRequire(import.meta.url);
const Marketo = require("node-marketo-rest") as new (
  options: Record<string, unknown>,
) => {
  lead: {
    createOrUpdate(
      input: unknown[],
      options?: Record<string, unknown>,
    ): Promise<{ success: boolean; result: Array<{ id: number; status: string }> }>;
    find(
      filterType: string,
      values: string[],
      options?: Record<string, unknown>,
    ): Promise<{ success: boolean; result: Array<Record<string, unknown>> }>;
  };
};

describe("peer client: node-marketo-rest", () => {
  test("authenticates, syncs leads and reads them back", async () => {
    // node-marketo-rest 0.7.8 sends the token as `Authorization: Bearer` (lib/connection.js),
    // so the sandbox runs with its default, acceptAccessTokenQuery: false.
    const sb = await sandbox();
    const marketo = new Marketo({
      endpoint: `${sb.url}/rest`,
      identity: `${sb.url}/identity`,
      clientId: sb.clientId,
      clientSecret: sb.clientSecret,
    });
    const synced = await marketo.lead.createOrUpdate(
      [
        { email: "peer-1@example.com", firstName: "Ada" },
        { email: "peer-2@example.com", firstName: "Grace" },
      ],
      { lookupField: "email" },
    );
    assert.equal(synced.success, true);
    assert.deepEqual(
      synced.result.map((r) => r.status),
      ["created", "created"],
    );
    const found = await marketo.lead.find("email", ["peer-1@example.com", "peer-2@example.com"], {
      fields: ["email", "firstName"],
    });
    assert.deepEqual(
      found.result.map((r) => r.firstName),
      ["Ada", "Grace"],
    );
    const calls = sb.calls();
    assert.equal(calls[0]?.path, "/identity/oauth/token");
    assert.ok(calls.slice(1).every((c) => c.code === "200"));
  });
});
