// The AI providers in their fallback order, each with its circuit breaker's state and
// counts (GET /ai/status), and the day's token use against the budget.
import { useEffect, useState } from "preact/hooks";
import { client } from "../api";
import { ErrorNotice } from "../components/Notice";
import { formatCount } from "../format";
import type { AiStatus } from "../types";

const CIRCUITS: Record<string, string> = {
  closed: "Closed (calls go through)",
  open: "Open (skipped until it cools down)",
  half_open: "Half open (trying one call)",
};

export function AiStatusPage() {
  const [status, setStatus] = useState<AiStatus | null>(null);
  const [error, setError] = useState<unknown>(null);

  const load = () =>
    client.get<AiStatus>("/ai/status").then(
      (next) => {
        setStatus(next);
        setError(null);
      },
      (caught: unknown) => setError(caught),
    );

  useEffect(() => {
    void load();
  }, []);

  return (
    <>
      <div class="page-head">
        <h1>AI status</h1>
        <button type="button" class="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      {error !== null && <ErrorNotice error={error} action="Loading the AI status failed" />}
      {status === null && error === null && <p role="status">Loading…</p>}
      {status !== null && (
        <>
          <p class="muted">
            Providers are tried in this order; the offline generator (local) is the last resort. Tokens today:{" "}
            {formatCount(status.tokens_today)}
            {status.daily_token_budget !== null ? ` of ${formatCount(status.daily_token_budget)}` : " (no daily budget)"}.
          </p>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="AI providers (scrolls sideways)">
            <table class="providers">
              <caption class="sr-only">AI providers</caption>
              <thead>
                <tr>
                  <th scope="col">Provider</th>
                  <th scope="col">Available</th>
                  <th scope="col">Circuit</th>
                  <th scope="col" class="num">
                    Calls
                  </th>
                  <th scope="col">Failures</th>
                  <th scope="col" class="num">
                    Tokens in / out
                  </th>
                </tr>
              </thead>
              <tbody>
                {status.providers.map((provider) => (
                  <tr key={provider.name} data-provider={provider.name}>
                    <th scope="row">{provider.name}</th>
                    <td>{provider.available ? "Yes" : `No${provider.reason ? `: ${provider.reason}` : ""}`}</td>
                    <td data-circuit={provider.circuit ?? "none"}>
                      {provider.circuit === null ? "None (offline generator)" : (CIRCUITS[provider.circuit] ?? provider.circuit)}
                    </td>
                    <td class="num">{formatCount(provider.calls)}</td>
                    <td>
                      {Object.keys(provider.failures).length === 0
                        ? "None"
                        : Object.entries(provider.failures)
                            .map(([kind, count]) => `${kind}: ${count}`)
                            .join(", ")}
                    </td>
                    <td class="num">
                      {formatCount(provider.input_tokens)} / {formatCount(provider.output_tokens)}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}
    </>
  );
}
