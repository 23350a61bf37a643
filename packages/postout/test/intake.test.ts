import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import {
  type IntakeErrorCode,
  type IntakeItem,
  isIntakeError,
  type ReadOptions,
  readLeadFile,
} from "../src/intake/index.ts";

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), "postout-intake-"));
});
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function file(name: string, content: string | Uint8Array): string {
  const path = join(dir, `${n++}-${name}`);
  writeFileSync(path, content);
  return path;
}

async function readAll(path: string, options: ReadOptions = {}): Promise<IntakeItem[]> {
  const items: IntakeItem[] = [];
  for await (const item of readLeadFile(path, options)) items.push(item);
  return items;
}

/** Rows as `line:field=value|…` and rejections as `line!code`, compact enough for a table. */
function brief(items: IntakeItem[]): string[] {
  return items.map((i) =>
    i.kind === "row"
      ? `${i.line}:${Object.entries(i.fields)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join("|")}`
      : `${i.line}!${i.code}`,
  );
}

async function failure(path: string, options: ReadOptions = {}) {
  try {
    await readAll(path, options);
  } catch (error) {
    assert.ok(isIntakeError(error), `not an IntakeError: ${String(error)}`);
    return error;
  }
  assert.fail("expected an IntakeError");
}

const latin1 = (s: string) => Buffer.from(s, "latin1");

describe("readLeadFile: formats", () => {
  const cases: [string, string, string | Uint8Array, string[]][] = [
    [
      "CSV with LF",
      "a.csv",
      "email,first\na@x.com,Ann\nb@x.com,Bob\n",
      ['2:email="a@x.com"|first="Ann"', '3:email="b@x.com"|first="Bob"'],
    ],
    [
      "CSV with CRLF and no final newline",
      "a.csv",
      "email,first\r\na@x.com,Ann\r\nb@x.com,Bob",
      ['2:email="a@x.com"|first="Ann"', '3:email="b@x.com"|first="Bob"'],
    ],
    [
      "CSV with CR only",
      "a.csv",
      "email\ra@x.com\rb@x.com\r",
      ['2:email="a@x.com"', '3:email="b@x.com"'],
    ],
    ["CSV with a UTF-8 BOM", "a.csv", "\uFEFFemail\na@x.com\n", ['2:email="a@x.com"']],
    [
      "CSV header names trimmed",
      "a.csv",
      " email , first \na@x.com,Ann\n",
      ['2:email="a@x.com"|first="Ann"'],
    ],
    [
      "CSV blank lines skipped, lines kept",
      "a.csv",
      "email\n\na@x.com\n\n\nb@x.com\n",
      ['3:email="a@x.com"', '6:email="b@x.com"'],
    ],
    [
      "CSV quoted fields with delimiters and quotes",
      "a.csv",
      'email,company\na@x.com,"Acme, Inc. ""East"""\n',
      ['2:email="a@x.com"|company="Acme, Inc. \\"East\\""'],
    ],
    [
      "CSV line numbers after multi-line quoted fields (LF)",
      "a.csv",
      'email,note\na@x.com,"one\ntwo\nthree"\nb@x.com,x\n',
      ['2:email="a@x.com"|note="one\\ntwo\\nthree"', '5:email="b@x.com"|note="x"'],
    ],
    [
      "CSV line numbers after multi-line quoted fields (CRLF)",
      "a.csv",
      'email,note\r\na@x.com,"one\r\ntwo"\r\nb@x.com,x\r\nc@x.com,y\r\n',
      [
        '2:email="a@x.com"|note="one\\r\\ntwo"',
        '4:email="b@x.com"|note="x"',
        '5:email="c@x.com"|note="y"',
      ],
    ],
    // Line endings mixed in one file (concatenated exports): CRLF, LF and a lone CR outside
    // quotes each end one line, whichever came first; the first three are fast-check finds.
    ["CSV mixed: CR, then CRLF", "a.csv", "a\ra\r\n", ['2:a="a"']],
    ["CSV mixed: LF, then CRLF", "a.csv", "a\nb\r\nc", ['2:a="b"', '3:a="c"']],
    ["CSV mixed: CRLF, then CR", "a.csv", "a\r\nb\rc", ['2:a="b"', '3:a="c"']],
    [
      "CSV mixed: all three, with blank lines of each kind",
      "a.csv",
      "email,first\r\na@x.com,Ann\nb@x.com,Bob\rc@x.com,Cy\r\n\r\n\n\rd@x.com,Dee",
      [
        '2:email="a@x.com"|first="Ann"',
        '3:email="b@x.com"|first="Bob"',
        '4:email="c@x.com"|first="Cy"',
        '8:email="d@x.com"|first="Dee"',
      ],
    ],
    [
      "CSV with CR only, blank lines and a multi-line quoted field",
      "a.csv",
      'email,note\r\ra@x.com,"one\rtwo"\rb@x.com,x\r',
      ['3:email="a@x.com"|note="one\\rtwo"', '5:email="b@x.com"|note="x"'],
    ],
    [
      "CSV CRLF inside quotes in an LF file is data and one line",
      "a.csv",
      'email,note\na@x.com,"one\r\ntwo"\nb@x.com,"x\ry\nz"\nc@x.com,ok\n',
      [
        '2:email="a@x.com"|note="one\\r\\ntwo"',
        '4:email="b@x.com"|note="x\\ry\\nz"',
        '7:email="c@x.com"|note="ok"',
      ],
    ],
    [
      "CSV CR and LF inside quotes in a CRLF file",
      "a.csv",
      'email,note\r\na@x.com,"one\rtwo\nthree"\r\nb@x.com,x\r\n',
      ['2:email="a@x.com"|note="one\\rtwo\\nthree"', '5:email="b@x.com"|note="x"'],
    ],
    [
      "CSV semicolon delimiter by option",
      "a.csv",
      "email;first\na@x.com;Ann\n",
      ['2:email="a@x.com"|first="Ann"'],
    ],
    [
      "JSONL with types kept",
      "a.jsonl",
      '{"email":"a@x.com","age":42,"vip":true,"fax":null}\n{"email":"b@x.com"}\n',
      ['1:email="a@x.com"|age=42|vip=true|fax=null', '2:email="b@x.com"'],
    ],
    [
      "JSONL with CRLF, blank lines and a BOM",
      "a.ndjson",
      '\uFEFF{"email":"a@x.com"}\r\n\r\n{"email":"b@x.com"}',
      ['1:email="a@x.com"', '3:email="b@x.com"'],
    ],
    [
      "JSON array, element lines",
      "a.json",
      '[\n  {"email":"a@x.com"},\n  {\n    "email":"b@x.com"\n  }\n]\n',
      ['2:email="a@x.com"', '3:email="b@x.com"'],
    ],
    [
      "JSON array on one line with strings holding brackets",
      "a.json",
      '[{"email":"a@x.com","n":"[,{\\"]"},{"email":"b@x.com"}]',
      ['1:email="a@x.com"|n="[,{\\"]"', '1:email="b@x.com"'],
    ],
  ];
  for (const [name, fileName, content, expected] of cases) {
    it(name, async () => {
      const options: ReadOptions = name.includes("semicolon") ? { delimiter: ";" } : {};
      assert.deepEqual(brief(await readAll(file(fileName, content), options)), expected);
    });
  }

  it("takes the format from --format over the extension", async () => {
    const items = await readAll(file("leads.txt", '{"email":"a@x.com"}\n'), { format: "jsonl" });
    assert.deepEqual(brief(items), ['1:email="a@x.com"']);
  });
});

describe("readLeadFile: rows rejected with their line, the rest still read", () => {
  const cases: [string, string, string | Uint8Array, string[], RegExp?][] = [
    [
      "too many and too few columns",
      "a.csv",
      "email,first\na@x.com,Ann,extra\nb@x.com,Bob\nc@x.com\nd@x.com,Dee\n",
      [
        "2!wrong_column_count",
        '3:email="b@x.com"|first="Bob"',
        "4!wrong_column_count",
        '5:email="d@x.com"|first="Dee"',
      ],
      /expected 2 columns as in the header, got 3/,
    ],
    [
      "a quote inside an unquoted field",
      "a.csv",
      'email,first\na@x.com,An"n\nb@x.com,Bob\n',
      ["2!bad_quote", '3:email="b@x.com"|first="Bob"'],
      /put the whole field in quotes/,
    ],
    [
      "invalid UTF-8 (Latin-1 bytes)",
      "a.csv",
      Buffer.concat([
        Buffer.from("email,city\na@x.com,M"),
        latin1("ünchen"),
        Buffer.from("\nb@x.com,Köln\n"),
      ]),
      ["2!invalid_utf8", '3:email="b@x.com"|city="Köln"'],
      /save the file as UTF-8/,
    ],
    [
      "invalid UTF-8 inside a multi-line quoted field",
      "a.csv",
      Buffer.concat([
        Buffer.from('email,note\na@x.com,"ok\nbad '),
        Buffer.from([0xff]),
        Buffer.from('"\nb@x.com,x\n'),
      ]),
      ["2!invalid_utf8", '4:email="b@x.com"|note="x"'],
    ],
    [
      "invalid UTF-8 on a line after CR-only breaks",
      "a.csv",
      Buffer.concat([
        Buffer.from('email,city\ra@x.com,"Pa\rris"\rb@x.com,M'),
        latin1("ünchen"),
        Buffer.from("\rc@x.com,K\u00f6ln\r"),
      ]),
      ['2:email="a@x.com"|city="Pa\\rris"', "4!invalid_utf8", '5:email="c@x.com"|city="Köln"'],
    ],
    [
      "invalid UTF-8 after mixed breaks and a CRLF inside quotes",
      "a.csv",
      Buffer.concat([
        Buffer.from('email,city\na@x.com,"x\r\ny"\rb@x.com,ok\r\nc@x.com,'),
        Buffer.from([0xff]),
        Buffer.from("\nd@x.com,ok\n"),
      ]),
      [
        '2:email="a@x.com"|city="x\\r\\ny"',
        '4:email="b@x.com"|city="ok"',
        "5!invalid_utf8",
        '6:email="d@x.com"|city="ok"',
      ],
    ],
    [
      "a stray quote after a CRLF inside quotes, in the same record and the one before",
      "a.csv",
      'email,note\nx"y,"p\r\nq"\n"p\r\nq",x"y\nc@x.com,"d\r\ne",x\nc@x.com,d\n',
      ["2!bad_quote", "5!bad_quote", "6!wrong_column_count", '8:email="c@x.com"|note="d"'],
    ],
    [
      "a NUL byte in a value",
      "a.csv",
      "email,first\na@x.com,A\0nn\nb@x.com,Bob\n",
      ["2!nul_character", '3:email="b@x.com"|first="Bob"'],
      /NUL character/,
    ],
    [
      "a field over the cap",
      "a.csv",
      `email,note\na@x.com,${"x".repeat(70_000)}\nb@x.com,ok\n`,
      ["2!field_too_large", '3:email="b@x.com"|note="ok"'],
      /field "note" is 70000 bytes; the limit is 65536/,
    ],
    [
      "a row with no values",
      "a.csv",
      "email,first\n,\n ,  \nb@x.com,Bob\n",
      ["2!empty_row", "3!empty_row", '3:email="b@x.com"|first="Bob"'.replace("3:", "4:")],
    ],
    [
      "JSONL: invalid JSON, non-objects, nested values",
      "a.jsonl",
      '{"email":"a@x.com"}\n{"email":\n[1,2]\n"text"\n42\nnull\n{"email":"b@x.com","tags":["a"]}\n{"email":"c@x.com","co":{"n":1}}\n{"":"x"}\n{"email":"d@x.com"}\n',
      [
        '1:email="a@x.com"',
        "2!invalid_json",
        "3!not_an_object",
        "4!not_an_object",
        "5!not_an_object",
        "6!not_an_object",
        "7!nested_value",
        "8!nested_value",
        "9!empty_field_name",
        '10:email="d@x.com"',
      ],
    ],
    [
      "JSONL: invalid UTF-8, lone surrogate escape, NUL escape",
      "a.jsonl",
      Buffer.concat([
        Buffer.from('{"city":"'),
        latin1("Köln"),
        Buffer.from('"}\n{"n":"\\ud800"}\n{"n":"a\\u0000b"}\n{"email":"ok@x.com"}\n'),
      ]),
      ["1!invalid_utf8", "2!unpaired_surrogate", "3!nul_character", '4:email="ok@x.com"'],
    ],
    [
      "JSONL: a line over the row cap",
      "a.jsonl",
      `{"n":"${"x".repeat(2000)}"}\n{"email":"ok@x.com"}\n`,
      ["1!row_too_large", '2:email="ok@x.com"'],
    ],
    [
      "JSON array: elements that are not leads",
      "a.json",
      '[\n{"email":"a@x.com"},\n"x",\n[1],\n{"email":"b@x.com","x":{}}\n]',
      ['2:email="a@x.com"', "3!not_an_object", "4!not_an_object", "5!nested_value"],
      /element 2: expected a JSON object/,
    ],
  ];
  for (const [name, fileName, content, expected, reason] of cases) {
    it(name, async () => {
      const options: ReadOptions = name.includes("row cap") ? { maxRowBytes: 1000 } : {};
      const items = await readAll(file(fileName, content), options);
      assert.deepEqual(brief(items), expected);
      if (reason) assert.match(items.find((i) => i.kind === "rejected")?.reason ?? "", reason);
    });
  }
});

describe("readLeadFile: files that cannot be read", () => {
  const cases: [
    string,
    string,
    string | Uint8Array | null,
    IntakeErrorCode,
    RegExp,
    ReadOptions?,
  ][] = [
    ["missing file", "missing.csv", null, "file_not_found", /missing\.csv: no such file/],
    ["unknown extension", "leads.xlsx", "x", "unknown_format", /--format csv\|jsonl\|json/],
    [
      "unknown --format",
      "leads.csv",
      "x",
      "unknown_format",
      /unknown format 'xml'/,
      { format: "xml" as "csv" },
    ],
    [
      "UTF-16 LE with BOM",
      "a.csv",
      Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("email\na@x.com\n", "utf16le")]),
      "unsupported_encoding",
      /UTF-16 \(little endian\), which is not supported; save it as UTF-8/,
    ],
    [
      "UTF-16 BE with BOM",
      "a.jsonl",
      Buffer.from([0xfe, 0xff, 0, 0x7b]),
      "unsupported_encoding",
      /UTF-16 \(big endian\)/,
    ],
    [
      "UTF-32 LE with BOM",
      "a.json",
      Buffer.from([0xff, 0xfe, 0, 0, 0x5b, 0, 0, 0]),
      "unsupported_encoding",
      /UTF-32/,
    ],
    [
      "UTF-16 LE without BOM",
      "a.csv",
      Buffer.from("email,first\na@x.com,Ann\n", "utf16le"),
      "unsupported_encoding",
      /line 1: .*looks like UTF-16/,
    ],
    ["empty CSV", "a.csv", "", "empty_file", /is empty \(no leads\)/],
    ["CSV with only a BOM and blank lines", "a.csv", "\uFEFF\n\n", "empty_file", /no leads/],
    ["header-only CSV", "a.csv", "email,first\n", "no_leads", /has a header row but no leads/],
    [
      "duplicate header names",
      "a.csv",
      "email,First,first ,First\na,b,c,d\n",
      "duplicate_header",
      /line 1: the header names "First" more than once/,
    ],
    [
      "empty header names",
      "a.csv",
      "email,,first,\na,b,c,d\n",
      "empty_header",
      /line 1: column 2, 4 of the header has no name/,
    ],
    [
      "header not UTF-8",
      "a.csv",
      latin1("émail\na\n"),
      "invalid_utf8",
      /line 1: the header row is not valid UTF-8/,
    ],
    [
      "quote never closed",
      "a.csv",
      'email,first\na@x.com,Ann\nb@x.com,"Bob\nc@x.com,Cy\n',
      "malformed_csv",
      /line 3: a quoted field is never closed/,
    ],
    [
      "text after a closing quote",
      "a.csv",
      'email,first\na@x.com,"Ann"x\nb@x.com,Bob\n',
      "malformed_csv",
      /line 2: a quoted field has text after its closing quote/,
    ],
    [
      "text after a closing quote, after a CRLF inside quotes",
      "a.csv",
      'email,note\r\na@x.com,"one\r\ntwo"\r\nb@x.com,"x"y\r\n',
      "malformed_csv",
      /line 4: a quoted field has text after its closing quote/,
    ],
    [
      "quote never closed, in a CR-only file after blank lines",
      "a.csv",
      'email\ra@x.com\r\r"b@x.com\rc\r',
      "malformed_csv",
      /line 4: a quoted field is never closed/,
    ],
    [
      "a CSV record over the row cap",
      "a.csv",
      `email,note\na@x.com,"${"x".repeat(3000)}"\n`,
      "row_too_large",
      /line 2: a record is over 2000 bytes/,
      { maxRowBytes: 2000 },
    ],
    ["empty JSONL", "a.jsonl", "\n \n", "empty_file", /no leads/],
    ["empty JSON file", "a.json", "  ", "empty_file", /no leads/],
    ["empty JSON array", "a.json", "[ ]", "no_leads", /empty array/],
    ["invalid JSON", "a.json", '[{"email": "a@x.com",}]', "invalid_json", /is not valid JSON/],
    [
      "JSONL named .json",
      "a.json",
      '{"email":"a"}\n{"email":"b"}\n',
      "invalid_json",
      /--format jsonl/,
    ],
    [
      "JSON object, not an array",
      "a.json",
      '{"email":"a@x.com"}',
      "not_an_array",
      /must hold a JSON array/,
    ],
    [
      "JSON array over the size limit",
      "a.json",
      `[${'{"email":"a@x.com"},'.repeat(100)}{}]`,
      "file_too_large",
      /Use JSONL/,
      { maxJsonBytes: 1000 },
    ],
    [
      "JSON array not UTF-8",
      "a.json",
      Buffer.concat([Buffer.from('[\n{"c":"'), latin1("é"), Buffer.from('"}]')]),
      "invalid_utf8",
      /line 2: is not valid UTF-8/,
    ],
  ];
  for (const [name, fileName, content, code, message, options] of cases) {
    it(name, async () => {
      const path = content === null ? join(dir, fileName) : file(fileName, content);
      const error = await failure(path, options);
      assert.equal(error.code, code);
      assert.match(error.message, message);
      assert.ok(error.message.startsWith(path), "the message names the file");
      assert.ok(!error.message.includes("    at "), "no stack trace in the message");
    });
  }

  it("refuses a directory", async () => {
    const sub = join(dir, "folder.csv");
    mkdirSync(sub);
    const error = await failure(sub);
    assert.equal(error.code, "not_a_file");
    assert.match(error.message, /is a directory/);
  });

  it("yields the rows before an unrecoverable quote, then throws with its line", async () => {
    const items: IntakeItem[] = [];
    const path = file("a.csv", 'email\na@x.com\nb@x.com\n"c@x.com\nd@x.com\n');
    await assert.rejects(
      async () => {
        for await (const item of readLeadFile(path)) items.push(item);
      },
      (e: unknown) => isIntakeError(e) && e.code === "malformed_csv" && e.line === 4,
    );
    assert.deepEqual(brief(items), ['2:email="a@x.com"', '3:email="b@x.com"']);
  });
});

describe("readLeadFile: streaming", () => {
  it("reads 200,000 rows without holding them", async () => {
    const rows = Array.from({ length: 200_000 }, (_, i) => `lead${i}@example.com,Name${i},CA`);
    const path = file("big.csv", `email,firstName,state\n${rows.join("\n")}\n`);
    let count = 0;
    let last = 0;
    for await (const item of readLeadFile(path)) {
      assert.equal(item.kind, "row");
      count++;
      last = item.line;
    }
    assert.equal(count, 200_000);
    assert.equal(last, 200_001);
  });

  it("counts a CRLF split between two 64 KiB reads as one line, in and outside quotes", async () => {
    const chunk = 64 * 1024;
    for (const quoted of [false, true]) {
      // The CR is the last byte of the first read, its LF the first of the second.
      const head = "email,note\r\n";
      const start = `a@x.com,${quoted ? '"' : ""}`;
      const text = `${head}${start}${"y".repeat(chunk - 1 - head.length - start.length)}\r\n${quoted ? 'z"\r\n' : ""}b@x.com,ok\rc@x.com,ok\r\n`;
      assert.equal(text.indexOf("\r\n", head.length), chunk - 1);
      const items = await readAll(file("split.csv", text), { maxFieldBytes: 2 * chunk });
      assert.deepEqual(
        items.map((i) => `${i.line}:${i.kind}`),
        quoted ? ["2:row", "4:row", "5:row"] : ["2:row", "3:row", "4:row"],
      );
    }
  });

  it("stops reading when the consumer stops", async () => {
    const path = file("stop.csv", `email\n${"a@x.com\n".repeat(10_000)}`);
    let seen = 0;
    for await (const _ of readLeadFile(path)) {
      if (++seen === 3) break;
    }
    assert.equal(seen, 3);
  });
});
