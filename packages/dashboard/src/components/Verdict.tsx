import type { ReactNode } from "react";

/** Marketo's answer in seed 003's words: ResponseStatusCode and ResponseReason, highlighted. */
export function Verdict(props: {
  readonly code: string | undefined;
  readonly reason: string | null;
  readonly children?: ReactNode;
}) {
  const failed = props.code !== "200";
  return (
    <dl className="verdict">
      <dt>ResponseStatusCode</dt>
      <dd className={failed ? "highlight bad" : "highlight good"}>{props.code ?? "—"}</dd>
      <dt>ResponseReason</dt>
      <dd className={failed ? "highlight bad" : "highlight"}>{props.reason ?? "—"}</dd>
      {props.children}
    </dl>
  );
}
