// Users: every account with its role and status; an administrator changes a role or
// deactivates an account (PATCH /users/{id}). The API refuses demoting or deactivating
// yourself, so your own row offers neither.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Page, client } from "../api";
import { DoneNotice, ErrorNotice } from "../components/Notice";
import { Pager, useAnswered } from "../components/Pager";
import { formatMoment } from "../format";
import { type Location, href, navigate } from "../router";
import { useSession } from "../session";
import type { AdminUser } from "../types";

const PAGE_SIZE = 50;

export function Users({ location }: { location: Location }) {
  const { user: me } = useSession();
  const cursor = location.query.get("cursor");
  const [page, setPage] = useState<Page<AdminUser> | null>(null);
  const queryKey = JSON.stringify([cursor]);
  const [stale, answered] = useAnswered(queryKey);
  const [error, setError] = useState<unknown>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState<number | null>(null);
  const trail = useRef<(string | null)[]>([]);

  useEffect(() => {
    const controller = new AbortController();
    client.get<Page<AdminUser>>("/users", { limit: PAGE_SIZE, cursor }, controller.signal).then(
      (loaded) => {
        setPage(loaded);
        answered(queryKey);
      },
      (caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      },
    );
    return () => controller.abort();
  }, [cursor]);

  async function change(user: AdminUser, patch: Partial<Pick<AdminUser, "role" | "is_active">>, done: string) {
    setBusy(user.id);
    setMessage(null);
    setError(null);
    try {
      const saved = await client.json<AdminUser>("PATCH", `/users/${user.id}`, { body: patch });
      setPage((current) => current && { ...current, items: current.items.map((item) => (item.id === saved.id ? saved : item)) });
      setMessage(`${saved.email}: ${done}.`);
    } catch (caught) {
      setError(caught);
    } finally {
      setBusy(null);
    }
  }

  return (
    <>
      <div class="page-head">
        <h1>Users</h1>
      </div>
      <DoneNotice message={message} />
      {error !== null && <ErrorNotice error={error} action="Users" />}
      {page === null && error === null && <p role="status">Loading the users…</p>}
      {page !== null && (
        <>
          <div class="table-wrap" tabIndex={0} role="region" aria-label="Users (scrolls sideways)">
            <table class="users">
              <caption class="sr-only">Users</caption>
              <thead>
                <tr>
                  <th scope="col">Email</th>
                  <th scope="col">Role</th>
                  <th scope="col">Status</th>
                  <th scope="col">Joined</th>
                </tr>
              </thead>
              <tbody>
                {page.items.map((user) => {
                  const self = user.id === me.id;
                  return (
                    <tr key={user.id} data-user-id={user.id}>
                      <th scope="row">
                        {user.email}
                        <span class="muted slug">
                          {user.name}
                          {self ? " (you)" : ""}
                        </span>
                      </th>
                      <td>
                        <label class="sr-only" for={`role-${user.id}`}>
                          Role of {user.email}
                        </label>
                        <select
                          id={`role-${user.id}`}
                          value={user.role}
                          disabled={self || busy === user.id}
                          onChange={(event) => {
                            const role = event.currentTarget.value as AdminUser["role"];
                            void change(user, { role }, role === "admin" ? "now an administrator" : "now a customer");
                          }}
                        >
                          <option value="customer">Customer</option>
                          <option value="admin">Administrator</option>
                        </select>
                      </td>
                      <td>
                        <span class={user.is_active ? "" : "danger"} data-active={String(user.is_active)}>
                          {user.is_active ? "Active" : "Deactivated"}
                        </span>{" "}
                        {!self && (
                          <button
                            type="button"
                            class="secondary small"
                            disabled={busy === user.id}
                            aria-label={`${user.is_active ? "Deactivate" : "Reactivate"} ${user.email}`}
                            onClick={() =>
                              void change(
                                user,
                                { is_active: !user.is_active },
                                user.is_active ? "deactivated, signed out everywhere" : "reactivated",
                              )
                            }
                          >
                            {user.is_active ? "Deactivate" : "Reactivate"}
                          </button>
                        )}
                      </td>
                      <td>{formatMoment(user.created_at)}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
          <Pager
            trail={trail}
            cursor={cursor}
            next={page.next_cursor}
            go={(next) => navigate(href("/users", { cursor: next }))}
            stale={stale}
          />
        </>
      )}
    </>
  );
}
