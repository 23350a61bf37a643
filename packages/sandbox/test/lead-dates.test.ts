import assert from "node:assert/strict";
import { beforeEach, describe, test } from "node:test";
import { call, outcomes, sandbox, token } from "./helpers.ts";

describe("lead createdAt/updatedAt and duplicates within one batch", async () => {
  const start = new Date("2026-12-04T16:19:13.456Z");
  // Real time scale: the test moves the clock 90 s, within the token's lifetime.
  const sb = await sandbox({ clock: start, timeScale: 1 });
  const t = await token(sb);
  const sync = (body: unknown) => call(sb, t, "POST", "/rest/v1/leads.json", body);
  const byEmail = (email: string) =>
    call(
      sb,
      t,
      "GET",
      `/rest/v1/leads.json?filterType=email&filterValues=${encodeURIComponent(email)}&fields=id,email,createdAt,updatedAt,firstName`,
    );
  beforeEach(() => {
    sb.reset();
    sb.clock.set(start);
  });

  test("createdAt and updatedAt are ISO-8601 UTC seconds from the sandbox clock", async () => {
    await sync({ input: [{ email: "d@x.com", firstName: "Ann" }] });
    sb.clock.advance(90_000);
    await sync({ input: [{ email: "d@x.com", firstName: "Anna" }] });
    const res = await byEmail("d@x.com");
    assert.deepEqual(res.body.result, [
      {
        id: 1,
        email: "d@x.com",
        createdAt: "2026-12-04T16:19:13Z",
        updatedAt: "2026-12-04T16:20:43Z",
        firstName: "Anna",
      },
    ]);
  });

  test("createDuplicate creates every record, also two with one email in one batch", async () => {
    await sync({ input: [{ email: "dup@x.com", firstName: "Old" }] });
    sb.clock.advance(1000);
    const res = await sync({
      action: "createDuplicate",
      input: [
        { email: "dup@x.com", firstName: "First" },
        { email: "DUP@x.com", firstName: "Second" },
      ],
    });
    assert.deepEqual(outcomes(res.body), ["created", "created"]);
    const read = await byEmail("dup@x.com");
    assert.deepEqual(
      read.body.result?.map((r) => [r.id, r.firstName, r.createdAt]),
      [
        [1, "Old", "2026-12-04T16:19:13Z"],
        [2, "First", "2026-12-04T16:19:14Z"],
        [3, "Second", "2026-12-04T16:19:14Z"],
      ],
    );
  });

  test("createOnly with one email twice in a batch: the first is created, the second 1005", async () => {
    const res = await sync({
      action: "createOnly",
      input: [
        { email: "once@x.com", firstName: "First" },
        { email: "once@x.com", firstName: "Second" },
      ],
    });
    assert.deepEqual(outcomes(res.body), ["created", "1005"]);
    assert.equal(res.body.result?.[1]?.id, undefined);
    const read = await byEmail("once@x.com");
    assert.deepEqual(
      read.body.result?.map((r) => r.firstName),
      ["First"],
    );
  });
});
