import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AccessDeniedError,
  AccessTokenError,
  BadCredentialsError,
  DailyQuotaError,
  errorFromResponse,
  HttpLevelError,
  InvalidResponseError,
  isMarketoError,
  type MarketoError,
  mayHaveExecuted,
  RateLimitError,
  type RawResponse,
  ResponseLevelError,
  readEnvelope,
  recordReasons,
  redactText,
} from "../src/index.ts";

const json = (body: unknown, status = 200) => ({
  status,
  headers: { "content-type": "application/json" },
  body: typeof body === "string" ? body : JSON.stringify(body),
});
const html = (status: number, title: string) => ({
  status,
  headers: { "content-type": "text/html" },
  body: `<html><head><title>${status} ${title}</title></head><body><h1>${title}</h1></body></html>`,
});

// Seed 003 prints the inner Marketo envelopes of a platform's log; these are them, verbatim.
const SEED_003_SUCCESS = {
  requestId: "155b2#176052739da",
  success: true,
  result: [
    {
      id: 1146997,
      status: "created",
      code: null,
      message: null,
      seq: null,
      marketoGuid: null,
      reasons: [],
      errors: [],
    },
  ],
  errors: [],
};
const SEED_003_SKIPPED = {
  requestId: "106dc#1760529c03b",
  success: true,
  result: [
    {
      id: null,
      status: "skipped",
      code: null,
      message: null,
      seq: null,
      marketoGuid: null,
      reasons: [{ code: "1006", message: "Field 'role' not found" }],
      errors: [],
    },
  ],
  errors: [],
};
// Seed 002's examples.
const SEED_002_RESPONSE_LEVEL = {
  requestId: "e42b#14272d07d78",
  success: false,
  errors: [{ code: "601", message: "Unauthorized" }],
};
const SEED_002_RECORD_LEVEL = {
  requestId: "e42b#14272d07d78",
  success: true,
  result: [
    { id: 50, status: "created" },
    { id: 51, status: "created" },
    { status: "skipped", reasons: [{ code: "1005", message: "Lead already exists" }] },
  ],
};

const failure = (code: string | number, message: string) => ({
  requestId: "a1#b2",
  success: false,
  errors: [{ code, message }],
});

type Expected = { cls: typeof MarketoError; code: string; recovery: string } | undefined;

const TABLE: {
  name: string;
  raw: RawResponse;
  expected: Expected;
}[] = [
  { name: "seed 003: success", raw: json(SEED_003_SUCCESS), expected: undefined },
  {
    name: "seed 003: a skipped record is not an error",
    raw: json(SEED_003_SKIPPED),
    expected: undefined,
  },
  { name: "seed 002: record-level 1005", raw: json(SEED_002_RECORD_LEVEL), expected: undefined },
  {
    name: "seed 002: response-level 601",
    raw: json(SEED_002_RESPONSE_LEVEL),
    expected: { cls: AccessTokenError, code: "601", recovery: "reauthenticate" },
  },
  {
    name: "602 access token expired",
    raw: json(failure("602", "Access token expired")),
    expected: { cls: AccessTokenError, code: "602", recovery: "reauthenticate" },
  },
  {
    name: "601 with an unquoted code",
    raw: json(failure(601, "Access token invalid")),
    expected: { cls: AccessTokenError, code: "601", recovery: "reauthenticate" },
  },
  {
    name: "603 access denied",
    raw: json(failure("603", "Access denied")),
    expected: { cls: AccessDeniedError, code: "603", recovery: "none" },
  },
  {
    name: "604 request time-out",
    raw: json(failure("604", "Request time-out")),
    expected: { cls: ResponseLevelError, code: "604", recovery: "split-request" },
  },
  {
    name: "606 rate limit",
    raw: json(failure("606", "Max rate limit '100' exceeded with in '20' secs")),
    expected: { cls: RateLimitError, code: "606", recovery: "slow-down" },
  },
  {
    name: "615 concurrency",
    raw: json(failure("615", "Concurrent access limit reached")),
    expected: { cls: RateLimitError, code: "615", recovery: "slow-down" },
  },
  {
    name: "607 daily quota",
    raw: json(failure("607", "Daily quota reached")),
    expected: { cls: DailyQuotaError, code: "607", recovery: "wait-for-quota-reset" },
  },
  {
    name: "611 system error",
    raw: json(failure("611", "System error")),
    expected: { cls: ResponseLevelError, code: "611", recovery: "retry-with-backoff" },
  },
  {
    name: "701 blank field",
    raw: json(failure("701", "programName cannot be blank")),
    expected: { cls: ResponseLevelError, code: "701", recovery: "none" },
  },
  {
    name: "an undocumented code falls to the generic class",
    raw: json(failure("799", "Something new")),
    expected: { cls: ResponseLevelError, code: "799", recovery: "none" },
  },
  {
    name: "HTML 413",
    raw: html(413, "Request Entity Too Large"),
    expected: { cls: HttpLevelError, code: "413", recovery: "split-request" },
  },
  {
    name: "HTML 414",
    raw: html(414, "Request-URI Too Long"),
    expected: { cls: HttpLevelError, code: "414", recovery: "post-with-method-get" },
  },
  {
    name: "HTML 502",
    raw: html(502, "Bad Gateway"),
    expected: { cls: HttpLevelError, code: "502", recovery: "retry-with-backoff" },
  },
  {
    name: "HTML 503 (undocumented 5xx)",
    raw: html(503, "Service Unavailable"),
    expected: { cls: HttpLevelError, code: "503", recovery: "retry-with-backoff" },
  },
  {
    name: "empty 500",
    raw: { status: 500, headers: {}, body: "" },
    expected: { cls: HttpLevelError, code: "500", recovery: "retry-with-backoff" },
  },
  {
    name: "identity 401",
    raw: json({ error: "invalid_client", error_description: "Bad client credentials" }, 401),
    expected: { cls: BadCredentialsError, code: "401", recovery: "none" },
  },
  {
    name: "200 with an empty body",
    raw: { status: 200, headers: {}, body: "" },
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "200 with an HTML page",
    raw: html(200, "Maintenance"),
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "200 with truncated JSON",
    raw: json('{"requestId":"a#b","success":tr'),
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "200 with a JSON array",
    raw: json([1, 2, 3]),
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "307 to another host: never followed",
    raw: {
      status: 307,
      headers: { location: "https://elsewhere.example/rest/v1/leads.json?access_token=t0k3n-xyz" },
      body: "",
    },
    expected: { cls: HttpLevelError, code: "307", recovery: "none" },
  },
  {
    name: "302 without a Location",
    raw: { status: 302, headers: {}, body: "<html>Found</html>" },
    expected: { cls: HttpLevelError, code: "302", recovery: "none" },
  },
  {
    name: "300, a 3xx that is not a redirect status of the catalog",
    raw: { status: 300, headers: {}, body: "" },
    expected: { cls: HttpLevelError, code: "300", recovery: "none" },
  },
  {
    name: "200 whose body was cut at the byte bound, although its first bytes parse",
    raw: { ...json("{}        "), cutAtBytes: 10 },
    expected: {
      cls: InvalidResponseError,
      code: "response_too_large",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "500 whose body was cut keeps its HTTP class",
    raw: { ...html(500, "Internal Server Error"), cutAtBytes: 40 },
    expected: { cls: HttpLevelError, code: "500", recovery: "retry-with-backoff" },
  },
  {
    name: "200 with garbage bytes",
    raw: { status: 200, headers: {}, body: "\u0000\uFFFD\u0001garbage" },
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
  {
    name: "success:false without errors",
    raw: json({ requestId: "a#b", success: false }),
    expected: {
      cls: InvalidResponseError,
      code: "invalid_response",
      recovery: "retry-with-backoff",
    },
  },
];

describe("errorFromResponse: raw HTTP answer → typed outcome", () => {
  for (const { name, raw, expected } of TABLE) {
    it(name, () => {
      const error = errorFromResponse(raw);
      if (expected === undefined) {
        assert.equal(error, undefined);
        return;
      }
      assert.ok(error instanceof expected.cls, `${error?.name} is not ${expected.cls.name}`);
      assert.equal(error.name, expected.cls.name);
      assert.equal(error.code, expected.code);
      assert.equal(error.recovery, expected.recovery);
      assert.ok(isMarketoError(error));
    });
  }

  it("names a redirect's Location, redacted, in the message; the call never ran", () => {
    const error = errorFromResponse({
      status: 307,
      headers: { location: "https://elsewhere.example/x?client_secret=s3cr3t-abc&a=1" },
      body: "",
    });
    assert.ok(error instanceof HttpLevelError);
    assert.ok(error.message.includes("https://elsewhere.example/x?client_secret=[REDACTED]&a=1"));
    assert.ok(!JSON.stringify([error.message, error.raw]).includes("s3cr3t-abc"));
    assert.equal(mayHaveExecuted(error), false);
    assert.equal(error.entry?.recovery, "none");
  });

  it("keeps the requestId and every member of errors[]", () => {
    const error = errorFromResponse(
      json({
        requestId: "e42b#14272d07d78",
        success: false,
        errors: [
          { code: "1003", message: "Invalid data" },
          { code: "701", message: "input cannot be blank" },
        ],
      }),
    );
    assert.ok(error instanceof ResponseLevelError);
    assert.equal(error.requestId, "e42b#14272d07d78");
    assert.deepEqual(
      error.errors.map((e) => [e.code, e.values]),
      [
        ["1003", {}],
        ["701", { field: "input" }],
      ],
    );
  });

  it("says when a 607 lifts: the next midnight in Chicago", () => {
    const error = errorFromResponse(json(failure("607", "Daily quota reached")), {
      now: new Date("2026-11-23T12:00:00Z"),
    });
    assert.ok(error instanceof DailyQuotaError);
    assert.equal(error.resetsAt.toISOString(), "2026-11-24T06:00:00.000Z");
  });

  it("keeps credentials out of the error", () => {
    const error = errorFromResponse(
      {
        status: 502,
        headers: { authorization: "Bearer tok-123:int" },
        body: "<html>Bad Gateway</html>",
      },
      {
        request: {
          method: "GET",
          url: "https://x.mktorest.com/rest/v1/leads.json?access_token=tok-123:int&a=1",
        },
      },
    );
    assert.ok(error);
    assert.equal(error.raw?.headers.authorization, "[REDACTED]");
    assert.equal(
      error.request?.url,
      "https://x.mktorest.com/rest/v1/leads.json?access_token=[REDACTED]&a=1",
    );
    assert.doesNotMatch(JSON.stringify({ ...error, message: error.message }), /tok-123/);
  });
});

describe("readEnvelope", () => {
  it("returns the result and paging members of a success", () => {
    const env = readEnvelope(
      json({
        requestId: "a#b",
        success: true,
        result: [{ id: 1 }],
        nextPageToken: "PS5V===",
        moreResult: true,
      }),
    );
    assert.deepEqual(env.result, [{ id: 1 }]);
    assert.equal(env.nextPageToken, "PS5V===");
    assert.equal(env.moreResult, true);
  });

  it("throws the typed error of a failure", () => {
    assert.throws(
      () => readEnvelope(json(failure("606", "Max rate limit '100' exceeded with in '20' secs"))),
      RateLimitError,
    );
  });
});

describe("recordReasons: record-level reasons are data", () => {
  it("reads seed 003's 1006 and names the field", () => {
    const [reason, ...rest] = recordReasons(SEED_003_SKIPPED.result[0]);
    assert.equal(rest.length, 0);
    assert.equal(reason?.code, "1006");
    assert.deepEqual(reason?.values, { field: "role" });
    assert.equal(reason?.entry?.level, "record");
  });

  it("reads seed 002's 1005", () => {
    assert.deepEqual(
      SEED_002_RECORD_LEVEL.result.map((r) => recordReasons(r).map((x) => x.code)),
      [[], [], ["1005"]],
    );
  });

  it("reads the errors[] form of Add Custom Activities (§10.2)", () => {
    const [reason] = recordReasons({
      status: "skipped",
      errors: [{ code: "1004", message: "Lead not found" }],
    });
    assert.equal(reason?.code, "1004");
  });

  it("ignores malformed reasons instead of crashing", () => {
    assert.deepEqual(recordReasons({ reasons: [null, 5, { message: "no code" }] }), []);
    assert.deepEqual(recordReasons("skipped"), []);
  });
});

describe("isMarketoError", () => {
  it("recognises an error from another realm by name and code", () => {
    const foreign = Object.assign(new Error("x"), { name: "RateLimitError", code: "606" });
    assert.ok(isMarketoError(foreign));
    assert.ok(!isMarketoError(new Error("x")));
    assert.ok(!isMarketoError({ name: "RateLimitError", code: "606" }));
  });
});

describe("redactText", () => {
  const cases = [
    [
      "https://h/rest/v1/leads.json?access_token=abc:int&x=1",
      "https://h/rest/v1/leads.json?access_token=[REDACTED]&x=1",
    ],
    [
      "/identity/oauth/token?grant_type=client_credentials&client_id=id&client_secret=s3cr3t",
      "/identity/oauth/token?grant_type=client_credentials&client_id=id&client_secret=[REDACTED]",
    ],
    [
      '{"access_token":"cdf0-1:int","token_type":"bearer"}',
      '{"access_token":"[REDACTED]","token_type":"bearer"}',
    ],
    [
      "client_secret=s3cr3t&grant_type=client_credentials",
      "client_secret=[REDACTED]&grant_type=client_credentials",
    ],
    ["Authorization: Bearer cdf0-1:int", "Authorization: Bearer [REDACTED]"],
  ];
  for (const [input, output] of cases) {
    it(`redacts ${input}`, () => assert.equal(redactText(input as string), output));
  }

  it("stays linear on a hostile input (ReDoS)", () => {
    const hostile = `?access_token=${"=".repeat(200_000)}${" Bearer".repeat(50_000)}"access_token" :${" ".repeat(100_000)}`;
    assert.ok(!redactText(hostile).includes("=".repeat(10)));
  });
});
