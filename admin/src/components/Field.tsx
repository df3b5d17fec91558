// A form field's error, tied to its input: the input names the error in
// aria-describedby and is aria-invalid, so a screen reader reads both together.

export function fieldAttributes(id: string, error: string | undefined, hint?: string) {
  const describedBy = [hint, error ? `${id}-error` : null].filter(Boolean).join(" ");
  return {
    id,
    "aria-invalid": error ? ("true" as const) : undefined,
    "aria-describedby": describedBy || undefined,
  };
}

export function FieldError({ id, error }: { id: string; error: string | undefined }) {
  if (!error) return null;
  return (
    <p id={`${id}-error`} class="field-error">
      {error}
    </p>
  );
}
