/** What the last action did: a notice, or the error that stopped it. */
export function Outcome(props: {
  readonly notice: string | undefined;
  readonly failure: string | undefined;
}) {
  return (
    <>
      {props.notice ? <output className="notice">{props.notice}</output> : null}
      {props.failure ? (
        <p className="error" role="alert">
          {props.failure}
        </p>
      ) : null}
    </>
  );
}
