import type { RefObject } from "preact";
import { useState } from "preact/hooks";

/**
 * Which query the page on screen answers: `stale` until `answered(key)` is called with the
 * current `key` (the query's parameters as a string), i.e. until the current query's page
 * has arrived. Pass `stale` to the Pager.
 */
export function useAnswered(key: string): [stale: boolean, answered: (key: string) => void] {
  const [answeredKey, setAnsweredKey] = useState<string | null>(null);
  return [answeredKey !== key, setAnsweredKey];
}

/**
 * Previous and Next over the API's cursor pages. `trail` holds the cursors of the pages
 * before this one (the API's cursors only go forward), so Previous retraces the way the
 * user came; `go` shows the page a cursor starts (null: the first). `stale`: the rows shown
 * answer an earlier query (the new page is loading), so their cursor is not followed: a
 * cursor of one sort or filter sent with another is refused by the API (400).
 */
export function Pager({
  trail,
  cursor,
  next,
  go,
  stale = false,
}: {
  trail: RefObject<(string | null)[]>;
  cursor: string | null;
  next: string | null;
  go: (cursor: string | null) => void;
  stale?: boolean;
}) {
  return (
    <nav class="pager" aria-label="Pages" aria-busy={stale}>
      <button
        type="button"
        class="secondary"
        disabled={stale || trail.current.length === 0}
        onClick={() => go(trail.current.pop() ?? null)}
      >
        Previous
      </button>
      <button
        type="button"
        class="secondary"
        disabled={stale || next === null}
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
