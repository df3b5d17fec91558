import type { RefObject } from "preact";

/**
 * Previous and Next over the API's cursor pages. `trail` holds the cursors of the pages
 * before this one (the API's cursors only go forward), so Previous retraces the way the
 * user came; `go` shows the page a cursor starts (null: the first).
 */
export function Pager({
  trail,
  cursor,
  next,
  go,
}: {
  trail: RefObject<(string | null)[]>;
  cursor: string | null;
  next: string | null;
  go: (cursor: string | null) => void;
}) {
  return (
    <nav class="pager" aria-label="Pages">
      <button
        type="button"
        class="secondary"
        disabled={trail.current.length === 0}
        onClick={() => go(trail.current.pop() ?? null)}
      >
        Previous
      </button>
      <button
        type="button"
        class="secondary"
        disabled={next === null}
        onClick={() => {
          trail.current.push(cursor);
          go(next);
        }}
      >
        Next
      </button>
    </nav>
  );
}
