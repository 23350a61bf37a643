import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { type CellResult, matrixCells, runCrashMatrix } from "../soak/crash-matrix.ts";
import {
  type CellExpectation,
  countCell,
  type MarketoRecords,
  type SourceLead,
  type StoreLead,
} from "../soak/matrix-count.ts";

// The short version of `npm run soak`'s crash matrix (soak/crash-matrix.ts): 8 leads per cell,
// one call per step, two sandboxes side by side. Each cell must die at its crash point and end,
// after a second run, with no lead lost, duplicated, mixed or pushed twice.
const LEADS = 8;

describe("crash matrix: every route × every crash moment, then the same post again", () => {
  const cells = matrixCells({});
  let results: readonly CellResult[] = [];
  before(async () => {
    results = (await runCrashMatrix({ leadsPerCell: LEADS, lanes: 2, timeScale: 0.25 })).cells;
  });

  for (const [k, { route, crashAt }] of cells.entries()) {
    it(`${route.name} × ${crashAt}: dies there; none lost, duplicated, mixed or pushed twice`, () => {
      const c = results[k] as CellResult;
      const detail = JSON.stringify(
        { problems: c.problems, attempts: c.attempts, rerun: c.rerunCode },
        null,
        1,
      );
      assert.equal(c.error, undefined, "the crash point is reached");
      assert.ok(c.killed);
      assert.equal(c.lost, 0, detail);
      assert.equal(c.duplicated, 0, detail);
      assert.equal(c.mixed, 0, detail);
      assert.equal(c.wrong, 0, detail);
      assert.equal(c.repeated, 0, `pushed twice: ${detail}`);
      const person = Object.values(c.needsPerson).reduce((a, b) => a + b, 0);
      assert.equal(c.once + person, LEADS, detail);
    });
  }
});

describe("crash matrix: counting a cell", () => {
  const lead = (i: number, extra: Record<string, string> = {}) => ({
    email: `cm${i}@example.com`,
    firstName: `First${i}`,
    lastName: `Last${i}`,
    ...extra,
  });
  const sources: SourceLead[] = [0, 1, 2].map((index) => ({ index, fields: lead(index) }));
  const at = "2026-01-01T00:00:10Z";
  const expect: CellExpectation = {
    creates: true,
    uncertainAllowed: false,
    list: "L",
    startedAt: Date.parse("2026-01-01T00:00:05Z"),
  };
  const stored = (i: number, marketoId: number | null, status = "delivered"): StoreLead => ({
    id: i + 1,
    input: lead(i),
    status,
    lastCode: status === "delivered" ? "200" : "uncertain",
    marketoId,
  });
  const whole: MarketoRecords = {
    leads: [0, 1, 2].map((i) => ({ id: 10 + i, createdAt: at, ...lead(i) })),
    lists: { L: [10, 11, 12] },
    customObjects: {},
    activities: [],
  };
  const store = [stored(0, 10), stored(1, 11), stored(2, 12)];

  const table: {
    name: string;
    marketo: MarketoRecords;
    store: StoreLead[];
    figures: Partial<
      Record<"once" | "lost" | "duplicated" | "mixed" | "wrong" | "repeated", number>
    >;
    expect?: Partial<CellExpectation>;
  }[] = [
    { name: "all delivered once", marketo: whole, store, figures: { once: 3 } },
    {
      name: "a lead missing from Marketo is lost",
      marketo: { ...whole, leads: whole.leads.slice(0, 2), lists: { L: [10, 11] } },
      store,
      figures: { once: 2, lost: 1 },
    },
    {
      name: "a lead missing from its list is lost",
      marketo: { ...whole, lists: { L: [10, 11] } },
      store,
      figures: { once: 2, lost: 1 },
    },
    {
      name: "a lead created twice is duplicated",
      marketo: { ...whole, leads: [...whole.leads, { id: 13, createdAt: at, ...lead(2) }] },
      store,
      figures: { once: 2, duplicated: 1 },
    },
    {
      name: "a lead with another's lastName is mixed",
      marketo: {
        ...whole,
        leads: [
          ...whole.leads.slice(0, 2),
          { id: 12, createdAt: at, ...lead(2, { lastName: "Last0" }) },
        ],
      },
      store,
      figures: { once: 3, mixed: 1 },
    },
    {
      name: "a delivered lead with another id is wrong",
      marketo: { ...whole, lists: { L: [10, 11] } },
      store: [stored(0, 10), stored(1, 11), stored(2, 11)],
      figures: { once: 2, wrong: 1 },
    },
    {
      name: "a lead created before the cell is wrong",
      marketo: {
        ...whole,
        leads: [
          ...whole.leads.slice(0, 2),
          { id: 12, createdAt: "2026-01-01T00:00:01Z", ...lead(2) },
        ],
      },
      store,
      figures: { once: 2, wrong: 1 },
    },
    {
      name: "needs_fix uncertain where none is allowed is wrong",
      marketo: { ...whole, lists: { L: [10, 11] } },
      store: [stored(0, 10), stored(1, 11), stored(2, null, "needs_fix")],
      figures: { once: 2, wrong: 1 },
    },
    {
      name: "a pushed lead without its Push Lead activity is lost; one pushed twice is measured",
      marketo: {
        ...whole,
        activities: [10, 10, 11].map((leadId, id) => ({
          id,
          leadId,
          activityTypeId: 145,
          primaryAttributeValue: "P",
        })),
      },
      store,
      figures: { once: 2, lost: 1, repeated: 1 },
      expect: { pushActivityType: 145 },
    },
  ];
  for (const row of table) {
    it(row.name, () => {
      const c = countCell(sources, row.marketo, row.store, { ...expect, ...row.expect });
      const { once, lost, duplicated, mixed, wrong, repeated } = c;
      assert.deepEqual(
        { once, lost, duplicated, mixed, wrong, repeated },
        { once: 0, lost: 0, duplicated: 0, mixed: 0, wrong: 0, repeated: 0, ...row.figures },
        c.problems.join("\n"),
      );
    });
  }
});
