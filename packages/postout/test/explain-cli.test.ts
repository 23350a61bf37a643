import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";

const BIN = fileURLToPath(new URL("../bin/postout.ts", import.meta.url));

function postout(args: string[], stdin = "") {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: stdin,
    encoding: "utf8",
    timeout: 20_000,
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// Seed 003's failed post-out, verbatim as the lead platform logged it.
const SEED_003_FAILED = `{ "marketoResponse": { "requestId": "106dc#1760529c03b", "success": true, "result": [ { "id": null, "status": "skipped", "code": null, "message": null, "seq": null, "marketoGuid": null, "reasons": [ { "code": "1006", "message": "Field 'role' not found" } ], "errors": [] } ], "errors": [], "reasonCode": { "reason": "Field 'role' not found", "statusCode": 1006 } }, "errors": [ "Field 'role' not found" ], "endpoint": "/rest/v1/leads.json", "handleTimeout": false, "failed": false }`;

describe("postout explain (subprocess)", () => {
  it("explains a code for a person", () => {
    const r = postout(["explain", "1006"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^1006 {2}Field '%s' not found/);
    assert.match(r.stdout, /Meaning .*not a field of this Marketo instance/);
    assert.match(r.stdout, /Fix .*fix the field map/);
  });

  it("explains Postout's own codes, said not to be Marketo's", () => {
    for (const code of [
      "too-long",
      "email-not-ascii",
      "no-value-mapping",
      "network",
      "uncertain",
    ]) {
      const r = postout(["explain", code]);
      assert.equal(r.code, 0, `${code}: ${r.stderr}`);
      assert.match(r.stdout, new RegExp(`^${code} {2}\\(Postout's .*; not a Marketo code\\)`));
      assert.match(r.stdout, /\n {2}Meaning {7}\S/);
      assert.match(r.stdout, /\n {2}Fix {11}\S/);
    }
    const json = JSON.parse(postout(["explain", "uncertain", "--json"]).stdout);
    assert.equal(json.code, "uncertain");
    assert.equal(json.marketo, false);
    assert.match(json.fix, /repost it only if it is missing/);
  });

  it("explains a code for machines with the documented keys", () => {
    const r = postout(["explain", "607", "--json"]);
    assert.equal(r.code, 0);
    const entry = JSON.parse(r.stdout);
    for (const key of ["code", "level", "message", "meaning", "recovery", "fix", "common"]) {
      assert.ok(key in entry, `missing key ${key}`);
    }
    assert.equal(entry.code, "607");
    assert.equal(entry.level, "response");
    assert.equal(entry.recovery, "wait-for-quota-reset");
    assert.equal(entry.common, true);
  });

  it("finds the code of a bare message and names the field in the fix", () => {
    const r = postout(["explain", "Field 'role' not found", "--json"]);
    assert.equal(r.code, 0);
    const { codes } = JSON.parse(r.stdout);
    assert.equal(codes.length, 1);
    assert.equal(codes[0].code, "1006");
    assert.deepEqual(codes[0].values, { field: "role" });
    assert.match(codes[0].fix, /^'role' is not a Marketo field/);
  });

  it("explains every code of a whole response given on stdin", () => {
    const response = JSON.stringify({
      requestId: "e42b#14272d07d78",
      success: true,
      result: [
        { id: 50, status: "created" },
        { status: "skipped", reasons: [{ code: "1005", message: "Lead already exists" }] },
        {
          status: "skipped",
          reasons: [{ code: "1001", message: "Invalid value 'ten'. Required of type 'integer'" }],
        },
      ],
    });
    const r = postout(["explain", "--json"], response);
    assert.equal(r.code, 0);
    const { codes } = JSON.parse(r.stdout);
    assert.deepEqual(
      codes.map((c: { code: string }) => c.code),
      ["1005", "1001"],
    );
    assert.deepEqual(codes[1].values, { value: "ten", type: "integer" });
  });

  it("reads seed 003's logged response once per code, from '-'", () => {
    const r = postout(["explain", "-"], SEED_003_FAILED);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.match(/^1006 /gm)?.length, 1);
    assert.match(r.stdout, /Marketo said {2}Field 'role' not found/);
    assert.match(r.stdout, /'role' is not a Marketo field/);
  });

  it("explains a response-level error passed as an argument", () => {
    const r = postout([
      "explain",
      '{"requestId":"e42b#14272d07d78","success":false,"errors":[{"code":"601","message":"Unauthorized"}]}',
    ]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^601 {2}Access token invalid/);
    assert.match(r.stdout, /fetches a new access token/);
  });

  it("says an unknown code is unknown, lists the nearest, exits 1", () => {
    const r = postout(["explain", "1023"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /1023 is not a code Marketo documents/);
    assert.match(r.stderr, /1022 {2}Object in use/);
    assert.match(r.stderr, /1025 {2}Program status not found/);
  });

  it("says when nothing in the input is a Marketo code, exits 1", () => {
    const r = postout(["explain", "the weather is fine"]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No Marketo code or known Marketo message/);
  });

  it("exits 1 when a response holds a code Marketo does not document", () => {
    const r = postout(
      ["explain", "--json"],
      '{"success":false,"errors":[{"code":"601","message":"x"},{"code":"799","message":"y"}]}',
    );
    assert.equal(r.code, 1);
    assert.deepEqual(JSON.parse(r.stdout).unknown, ["799"]);
  });

  it("lists every documented code with --all", () => {
    const r = postout(["explain", "--all", "--json"]);
    assert.equal(r.code, 0);
    const codes = JSON.parse(r.stdout).map((e: { code: string }) => e.code);
    assert.ok(codes.includes("413") && codes.includes("616") && codes.includes("1078"));
  });

  const usage = [
    { args: ["explain"], why: "no input at all" },
    { args: ["explain", "--bogus"], why: "an unknown option" },
    { args: ["explain", "1006", "extra"], why: "too many arguments" },
    { args: ["explain", "--all", "1006"], why: "--all with an input" },
    { args: ["no-such-command"], why: "an unknown command" },
  ];
  for (const { args, why } of usage) {
    it(`exits 2 on bad usage: ${why}`, () => {
      const r = postout(args);
      assert.equal(r.code, 2, r.stderr);
      assert.ok(r.stderr.length > 0);
    });
  }
});
