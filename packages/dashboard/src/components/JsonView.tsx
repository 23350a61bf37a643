/**
 * Pretty JSON as text. Lead data is never parsed as HTML: React writes it as a text node, so a
 * name like `<script>` is shown, not run.
 */
export function JsonView({ value, label }: { readonly value: unknown; readonly label: string }) {
  return (
    <section aria-label={label}>
      <pre className="json">
        {value === undefined || value === null ? "—" : JSON.stringify(value, null, 2)}
      </pre>
    </section>
  );
}
