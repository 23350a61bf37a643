import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { defaultIdentityUrl, restBase } from "../src/base-url.ts";

describe("base URL → REST base and identity URL", () => {
  // [base URL as written, REST base, default identity URL]
  const table: Array<[string, string, string]> = [
    [
      "https://284-RPR-133.mktorest.com",
      "https://284-rpr-133.mktorest.com",
      "https://284-rpr-133.mktorest.com/identity",
    ],
    [
      "https://284-RPR-133.mktorest.com/rest/",
      "https://284-rpr-133.mktorest.com",
      "https://284-rpr-133.mktorest.com/identity",
    ],
    [
      "https://284-RPR-133.mktorest.com/rest?client_secret=oops#frag",
      "https://284-rpr-133.mktorest.com",
      "https://284-rpr-133.mktorest.com/identity",
    ],
    [
      "http://127.0.0.1:9/i/0007",
      "http://127.0.0.1:9/i/0007",
      "http://127.0.0.1:9/i/0007/identity",
    ],
    [
      "http://127.0.0.1:9/i/0007/rest//",
      "http://127.0.0.1:9/i/0007",
      "http://127.0.0.1:9/i/0007/identity",
    ],
    // Paths that look like another host stay paths on this origin.
    [
      "http://127.0.0.1:9//other.example/x",
      "http://127.0.0.1:9//other.example/x",
      "http://127.0.0.1:9//other.example/x/identity",
    ],
    [
      "http://127.0.0.1:9/\\other.example/x",
      "http://127.0.0.1:9//other.example/x",
      "http://127.0.0.1:9//other.example/x/identity",
    ],
    ["http://127.0.0.1:9/a/../../x", "http://127.0.0.1:9/x", "http://127.0.0.1:9/x/identity"],
    [
      "http://user:pw@127.0.0.1:9/%2F%2Fother.example",
      "http://127.0.0.1:9/%2F%2Fother.example",
      "http://127.0.0.1:9/%2F%2Fother.example/identity",
    ],
  ];
  for (const [written, rest, identity] of table) {
    test(`${written} → ${identity}`, () => {
      const base = new URL(written);
      assert.equal(restBase(base), rest);
      assert.equal(defaultIdentityUrl(base), identity);
      assert.equal(new URL(`${defaultIdentityUrl(base)}/oauth/token`).origin, base.origin);
    });
  }
});
