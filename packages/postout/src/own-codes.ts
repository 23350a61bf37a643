/**
 * Postout's own codes: what a lead's ResponseStatusCode means when Marketo did not give it
 * (Postout refused the lead before sending it, or the call had no readable answer). Marketo's
 * codes are in @postout/marketo's catalog; these never collide with them (they are words).
 *
 * The fix here is the general one; a lead's own fix (on the lead and in its attempts) names
 * its field and value.
 */
export interface OwnCode {
  readonly code: string;
  /** Who decided: Postout before sending, or the call that got no usable answer. */
  readonly origin: "before-sending" | "no-answer";
  readonly meaning: string;
  /** What Postout does about it by itself. */
  readonly recovery: string;
  readonly fix: string;
}

const NEEDS_PERSON = "needs a person: the lead waits as needs-fix and is never sent as it is";

const OWN_CODES: readonly OwnCode[] = [
  {
    code: "too-long",
    origin: "before-sending",
    meaning:
      "A value is longer than its Marketo field holds (describe's length), so Marketo would refuse the lead or cut the value.",
    recovery: NEEDS_PERSON,
    fix: "Shorten the value in the source data, or map the column to a longer field (a text area), then repost.",
  },
  {
    code: "email-not-ascii",
    origin: "before-sending",
    meaning: "The email has characters outside ASCII, which Marketo's email field does not accept.",
    recovery: NEEDS_PERSON,
    fix: "Write an international domain in its xn-- form; an address whose part before the @ is not ASCII cannot be stored in Marketo. Correct the source data, then repost.",
  },
  {
    code: "no-value-mapping",
    origin: "before-sending",
    meaning:
      "The field map translates this field's values (a list value mapper), and the lead's value is not in it and there is no default.",
    recovery: NEEDS_PERSON,
    fix: "Add the value to the field's map in `values`, or give it a default, then repost.",
  },
  {
    code: "unmapped-column",
    origin: "before-sending",
    meaning:
      'The lead has a column the field map does not name, and the map says `unmapped: "reject"`.',
    recovery: NEEDS_PERSON,
    fix: 'Map the column to a Marketo field, or set `unmapped` to "drop" to leave such columns out, then repost.',
  },
  {
    code: "conflicting-values",
    origin: "before-sending",
    meaning: "Two columns are mapped to one Marketo field and give it different values.",
    recovery: NEEDS_PERSON,
    fix: "Map only one of the columns to the field, or make them agree in the source data, then repost.",
  },
  {
    code: "read-only",
    origin: "before-sending",
    meaning:
      "The field map writes a field that Marketo manages itself (describe marks it read-only).",
    recovery: NEEDS_PERSON,
    fix: "Remove the field from the field map (or its column from the file), then repost.",
  },
  {
    code: "network",
    origin: "no-answer",
    meaning:
      "The call got no answer: the connection failed or broke. When it broke after the request left, Marketo may have carried it out.",
    recovery:
      "automatic: Postout retries with backoff; a lead whose call may have reached Marketo is looked up first (see uncertain)",
    fix: "Check that the destination's REST base URL is right and that this machine reaches it (DNS, firewall, proxy).",
  },
  {
    code: "unreachable",
    origin: "no-answer",
    meaning:
      "The connection to Marketo never opened (refused, a name that does not resolve, no route, a blocked port), so nothing was sent.",
    recovery:
      "automatic: Postout retries on its schedule; no lookup is needed, as nothing reached Marketo",
    fix: "Check the destination's REST base URL and that this machine reaches it (DNS, firewall, proxy); then `postout repost --code unreachable`, or let the retries send it.",
  },
  {
    code: "timeout",
    origin: "no-answer",
    meaning:
      "Marketo did not answer in time. It may still have carried out the call, so the lead is looked up before it is sent again.",
    recovery: "automatic: Postout looks the lead up in Marketo, then retries only if it is missing",
    fix: "Nothing, unless it keeps happening: then check Marketo's status page and the network between here and Marketo.",
  },
  {
    code: "uncertain",
    origin: "no-answer",
    meaning:
      "Postout cannot tell whether Marketo has the lead: the call may have been carried out, and looking the lead up did not settle it.",
    recovery: NEEDS_PERSON,
    fix: "Look the lead up in Marketo by its email: repost it only if it is missing.",
  },
  {
    code: "unknown",
    origin: "no-answer",
    meaning: "Marketo answered the lead without a status or a reason Postout can read.",
    recovery: NEEDS_PERSON,
    fix: "Look the lead up in Marketo; if it is missing, repost it.",
  },
  {
    code: "no_id",
    origin: "no-answer",
    meaning:
      "Marketo confirmed the lead but gave no id, so the steps after it (list, program, custom object, activity) cannot be sent.",
    recovery: NEEDS_PERSON,
    fix: "Look the lead up in Marketo and make its remaining steps there, or ask Adobe support why the id was missing.",
  },
];

const byCode = new Map(OWN_CODES.map((entry) => [entry.code, entry]));

/** Postout's own code, if `code` is one. */
export function ownCode(code: string): OwnCode | undefined {
  return byCode.get(code.trim());
}

export function allOwnCodes(): readonly OwnCode[] {
  return OWN_CODES;
}
