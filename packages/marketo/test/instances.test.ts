import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { type Sandbox, type SandboxInstance, startSandbox } from "@postout/sandbox";
import { clearTokenCache } from "../src/auth.ts";
import { MarketoClient } from "../src/client.ts";
import { BadCredentialsError } from "../src/errors.ts";
import { SCALE } from "./helpers.ts";

// The client against instances of one sandbox, each under its own path prefix (/i/NNNN).
describe("the client against a sandbox instance under a path prefix", () => {
  let sb: Sandbox;
  before(async () => {
    clearTokenCache();
    sb = await startSandbox({ instances: 5, timeScale: SCALE, latency: false, freezeClock: true });
  });
  after(() => sb.close());

  const instance = (index: number): SandboxInstance => {
    const found = sb.instances[index];
    assert.ok(found);
    return found;
  };
  const clientOf = (at: SandboxInstance, baseUrl = at.url) =>
    new MarketoClient({ baseUrl, clientId: at.clientId, clientSecret: at.clientSecret });
  const leadsIn = async (client: MarketoClient, email: string): Promise<unknown[]> => {
    const found: unknown[] = [];
    for await (const page of client.getLeadsByFilter({
      filterType: "email",
      filterValues: [email],
    })) {
      found.push(...page);
    }
    return found;
  };

  test("token, describe and sync end to end; the lead is in that instance only", async () => {
    const three = instance(3);
    const client = clientOf(three);
    const schema = await client.describeLeads();
    assert.ok(schema.fields.some((f) => f.name === "email"));
    const email = "prefixed@example.com";
    const result = await client.syncLeads([{ email, firstName: "Pre" }]);
    assert.deepEqual(
      result.results.map((r) => r.status),
      ["created"],
    );
    assert.equal((await leadsIn(client, email)).length, 1);
    assert.deepEqual(await leadsIn(clientOf(instance(4)), email), []);
    // Every call, the identity call included, reached instance 3 under its own paths.
    assert.deepEqual(
      three.calls().map((c) => [c.method, c.path, c.code]),
      [
        ["POST", "/identity/oauth/token", "200"],
        ["GET", "/rest/v1/leads/describe2.json", "200"],
        ["POST", "/rest/v1/leads.json", "200"],
        ["GET", "/rest/v1/leads.json", "200"],
      ],
    );
    assert.deepEqual(sb.calls(), []);
  });

  test("a base URL written with /rest and a trailing slash works the same", async () => {
    const two = instance(2);
    const client = clientOf(two, `${two.url}/rest/`);
    assert.deepEqual(
      (await client.syncLeads([{ email: "slash@example.com" }])).results.map((r) => r.status),
      ["created"],
    );
    assert.equal(two.calls()[0]?.path, "/identity/oauth/token");
  });

  test("one instance's credentials at another instance: bad credentials, nothing written", async () => {
    const [zero, one] = [instance(0), instance(1)];
    const client = new MarketoClient({
      baseUrl: one.url,
      clientId: zero.clientId,
      clientSecret: zero.clientSecret,
    });
    await assert.rejects(client.describeLeads(), BadCredentialsError);
    assert.deepEqual(
      one.calls().map((c) => [c.path, c.status]),
      [["/identity/oauth/token", 401]],
    );
    assert.deepEqual(zero.calls(), []);
  });
});
