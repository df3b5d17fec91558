// Dead jobs (every attempt failed) with their last error, and a replay button:
// GET /admin/jobs (the API's default status is dead) and POST /admin/jobs/{id}/retry.
import { useEffect, useState } from "preact/hooks";
import { type Page, client } from "../api";
import { DoneNotice, ErrorNotice } from "../components/Notice";
import { formatMoment } from "../format";
import type { Job } from "../types";

export function Jobs() {
  const [jobs, setJobs] = useState<Job[] | null>(null);
  const [more, setMore] = useState<string | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);

  async function load(cursor: string | null = null) {
    try {
      const page = await client.get<Page<Job>>("/admin/jobs", { status: "dead", limit: 50, cursor });
      setJobs((current) => (cursor === null ? page.items : [...(current ?? []), ...page.items]));
      setMore(page.next_cursor);
      setError(null);
    } catch (caught) {
      setError(caught);
    }
  }

  useEffect(() => {
    void load();
  }, []);

  async function replay(job: Job) {
    setBusy(job.id);
    setMessage(null);
    setError(null);
    try {
      const replayed = await client.json<Job>("POST", `/admin/jobs/${job.id}/retry`);
      setMessage(`Job #${job.id} (${job.name}) replayed from its first attempt: now ${replayed.status}.`);
      await load();
    } catch (caught) {
      setError(caught);
      await load();
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <div class="page-head">
        <h1>Jobs</h1>
        <button type="button" class="secondary" onClick={() => void load()}>
          Refresh
        </button>
      </div>
      <p class="muted">
        Background work (emails, notifications, AI content) is retried with back-off; a job whose every attempt failed is dead and waits here
        until it is replayed.
      </p>
      <DoneNotice message={message} />
      {error !== null && <ErrorNotice error={error} action="Jobs" />}
      {jobs === null && error === null && <p role="status">Loading the jobs…</p>}
      {jobs !== null && jobs.length === 0 && <p role="status">No dead jobs.</p>}
      {jobs !== null && jobs.length > 0 && (
        <ul class="jobs">
          {jobs.map((job) => (
            <li key={job.id} class="card job" data-job-id={job.id}>
              <div class="job-head">
                <h2 id={`job-${job.id}`}>
                  #{job.id} {job.name}
                </h2>
                <button type="button" disabled={busy !== null} onClick={() => void replay(job)} aria-label={`Replay job ${job.id} (${job.name})`}>
                  {busy === job.id ? "Replaying…" : "Replay"}
                </button>
              </div>
              <p class="muted">
                {job.attempts} of {job.max_attempts} attempts · created {formatMoment(job.created_at)}
                {job.finished_at ? ` · died ${formatMoment(job.finished_at)}` : ""}
              </p>
              <p class="label">Last error</p>
              <pre class="error-text">{job.last_error ?? "(none recorded)"}</pre>
              <details>
                <summary>Payload</summary>
                <pre>{JSON.stringify(job.payload, null, 2)}</pre>
              </details>
            </li>
          ))}
        </ul>
      )}
      {more !== null && (
        <button type="button" class="secondary" onClick={() => void load(more)}>
          More
        </button>
      )}
    </>
  );
}
