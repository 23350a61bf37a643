import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  errorFromResponse,
  explainCode,
  type MarketoError,
  type RecordResult,
} from "@postout/marketo";
import { DEFAULT_RETRY_SCHEDULE_MS, outcomeOf, UNTIL_RESUMED } from "../src/outcome.ts";

const NOW = Date.parse("2026-11-23T12:00:00Z");

const record = (over: Partial<RecordResult>): RecordResult => ({
  index: 0,
  input: { email: "a@b.com" },
  status: "created",
  id: undefined,
  marketoStatus: undefined,
  reasons: [],
  requestId: "r#1",
  ...over,
});

const skipped = (code: string, message: string) =>
  record({ status: "skipped", marketoStatus: "skipped", reasons: [explainCode(code, message)] });

function failedWith(status: number, body: unknown): RecordResult {
  const error = errorFromResponse(
    { status, headers: {}, body: typeof body === "string" ? body : JSON.stringify(body) },
    { now: new Date(NOW) },
  ) as MarketoError;
  const reasons =
    "errors" in error
      ? (error as { errors: ReturnType<typeof explainCode>[] }).errors
      : [explainCode(error.code, error.message)];
  return record({ status: "failed", reasons, error });
}
const responseError = (code: string, message: string) =>
  failedWith(200, { requestId: "r#2", success: false, errors: [{ code, message }] });

describe("outcomeOf: a record's result → its lead's next status", () => {
  const cases: {
    name: string;
    result: RecordResult;
    attempt?: number;
    expect: Record<string, unknown>;
  }[] = [
    {
      name: "created → delivered 200",
      result: record({ status: "created", id: 50 }),
      expect: { status: "delivered", statusCode: "200", marketoId: 50 },
    },
    {
      name: "updated → delivered 200",
      result: record({ status: "updated", id: 51 }),
      expect: { status: "delivered", statusCode: "200", marketoId: 51 },
    },
    {
      name: "1006 → needs_fix naming the field",
      result: skipped("1006", "Field 'role' not found"),
      expect: { status: "needs_fix", statusCode: "1006", reason: "Field 'role' not found" },
    },
    {
      name: "1005 → needs_fix",
      result: skipped("1005", "Lead already exists"),
      expect: { status: "needs_fix", statusCode: "1005" },
    },
    {
      name: "1025 → needs_fix",
      result: skipped("1025", "Program status not found"),
      expect: { status: "needs_fix", statusCode: "1025" },
    },
    {
      name: "1016 (queue full) → retrying in 1 min",
      result: skipped("1016", "Too many imports"),
      expect: { status: "retrying", statusCode: "1016", nextAt: NOW + 60_000 },
    },
    {
      name: "611 → retrying in 1 min",
      result: responseError("611", "System error"),
      expect: { status: "retrying", statusCode: "611", nextAt: NOW + 60_000 },
    },
    {
      name: "606 (after the client's own waits) → retrying",
      result: responseError("606", "Max rate limit '100' exceeded with in '20' secs"),
      expect: { status: "retrying", statusCode: "606" },
    },
    {
      name: "604 on the third attempt → retrying in 30 min",
      result: responseError("604", "Request time-out"),
      attempt: 3,
      expect: { status: "retrying", nextAt: NOW + 30 * 60_000 },
    },
    {
      name: "HTML 502 → retrying",
      result: failedWith(502, "<html>Bad Gateway</html>"),
      expect: { status: "retrying", statusCode: "502" },
    },
    {
      name: "a transient code past the schedule → needs_fix",
      result: responseError("611", "System error"),
      attempt: DEFAULT_RETRY_SCHEDULE_MS.length + 1,
      expect: { status: "needs_fix", statusCode: "611" },
    },
    {
      name: "609 invalid JSON → needs_fix",
      result: responseError("609", "Invalid JSON"),
      expect: { status: "needs_fix", statusCode: "609" },
    },
    {
      name: "607 → paused until Chicago midnight",
      result: responseError("607", "Daily quota reached"),
      expect: { status: "paused", statusCode: "607", nextAt: Date.parse("2026-11-24T06:00:00Z") },
    },
    {
      name: "401 → paused until resumed",
      result: failedWith(401, { error: "invalid_client" }),
      expect: { status: "paused", statusCode: "401" },
    },
    {
      name: "601 left when a call's attempts ran out (the token revoked again meanwhile) → retrying, not a pause",
      result: responseError("601", "Access token invalid"),
      expect: { status: "retrying", statusCode: "601", pauseDestination: undefined },
    },
    {
      name: "602 likewise → retrying, not a pause",
      result: responseError("602", "Access token expired"),
      expect: { status: "retrying", statusCode: "602", pauseDestination: undefined },
    },
    {
      name: "603 → paused until resumed",
      result: responseError("603", "Access denied"),
      expect: { status: "paused", statusCode: "603" },
    },
    {
      name: "unknown (lost answer) → needs_fix to verify",
      result: record({ status: "unknown", reasons: [explainCode("verify", "timed out")] }),
      expect: { status: "needs_fix", statusCode: "unknown" },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const outcome = outcomeOf(c.result, c.attempt ?? 1, NOW);
      for (const [key, value] of Object.entries(c.expect)) {
        assert.deepEqual((outcome as unknown as Record<string, unknown>)[key], value, key);
      }
    });
  }

  it("puts the catalog's fix, with the field named, on a needs_fix lead", () => {
    const outcome = outcomeOf(skipped("1006", "Field 'role' not found"), 1, NOW);
    assert.match(outcome.fix ?? "", /^'role' is not a Marketo field/);
  });

  it("pauses the destination on 607 and on bad credentials", () => {
    assert.deepEqual(
      outcomeOf(responseError("607", "Daily quota reached"), 1, NOW).pauseDestination?.until,
      Date.parse("2026-11-24T06:00:00Z"),
    );
    assert.equal(outcomeOf(failedWith(401, "{}"), 1, NOW).pauseDestination?.until, UNTIL_RESUMED);
    assert.equal(
      outcomeOf(responseError("611", "System error"), 1, NOW).pauseDestination,
      undefined,
    );
  });

  it("follows a per-code schedule when one is configured", () => {
    const outcome = outcomeOf(responseError("611", "System error"), 1, NOW, {
      retryScheduleMs: [1000],
      perCode: { "611": [42] },
    });
    assert.equal(outcome.nextAt, NOW + 42);
  });
});
