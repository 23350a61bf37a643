import { type InputHTMLAttributes, type ReactNode, type Ref, useId } from "react";

/**
 * One labelled input with its hint and its error under it. The input is described by both, so a
 * screen reader reads the hint and the problem with the field, not only a sighted person.
 */
export function TextField(props: {
  readonly label: string;
  readonly hint?: ReactNode;
  readonly error?: string | undefined;
  readonly input: InputHTMLAttributes<HTMLInputElement> & { readonly ref?: Ref<HTMLInputElement> };
}) {
  const id = useId();
  const hintId = `${id}-hint`;
  const errorId = `${id}-error`;
  const describedBy = [props.error ? errorId : "", props.hint ? hintId : ""].filter(Boolean);
  return (
    <div className={props.error ? "field invalid" : "field"}>
      <label htmlFor={id}>{props.label}</label>
      <input
        id={id}
        {...props.input}
        aria-invalid={props.error ? true : undefined}
        aria-describedby={describedBy.length > 0 ? describedBy.join(" ") : undefined}
      />
      {props.error ? (
        <small id={errorId} className="field-error">
          {props.error}
        </small>
      ) : null}
      {props.hint ? (
        <small id={hintId} className="hint">
          {props.hint}
        </small>
      ) : null}
    </div>
  );
}
