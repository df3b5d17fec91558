// Orders: status and customer filters and cursor pages over GET /orders. The first page
// follows new orders as they come: at once when a notification arrives on the stream,
// and every few seconds otherwise, since the API notifies administrators of low stock
// but not of each new order (docs/decisions.md, "Live orders").
import { useEffect, useRef, useState } from "preact/hooks";
import { type Page, client } from "../api";
import { ErrorNotice } from "../components/Notice";
import { Pager, useAnswered } from "../components/Pager";
import { formatCount, formatMoment, formatMoney, formatStatus, pageSummary } from "../format";
import { onNotification } from "../live";
import { type Location, href, navigate, onLinkClick } from "../router";
import type { AdminUser, Order, OrderStatus } from "../types";

const STATUSES: OrderStatus[] = ["pending_payment", "placed", "shipped", "delivered", "cancelled", "refunded"];
const PAGE_SIZE = 25;
const POLL_MS = 4000;

/**
 * The shop's users for the customer filter (up to 1,000). The orders API filters by
 * user id and does not name the buyer, so the filter lists users by email.
 */
async function loadUsers(): Promise<AdminUser[]> {
  const all: AdminUser[] = [];
  let cursor: string | null = null;
  do {
    const page: Page<AdminUser> = await client.get<Page<AdminUser>>("/users", { limit: 100, cursor });
    all.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor !== null && all.length < 1000);
  return all.sort((a, b) => a.email.localeCompare(b.email));
}

export function Orders({ location }: { location: Location }) {
  const statusParam = location.query.get("status") ?? "";
  const status = STATUSES.includes(statusParam as OrderStatus) ? statusParam : "";
  const customer = location.query.get("user_id") ?? "";
  const cursor = location.query.get("cursor");
  const filters = { status: status || null, user_id: customer || null };

  const [users, setUsers] = useState<AdminUser[]>([]);
  const [page, setPage] = useState<Page<Order> | null>(null);
  const queryKey = JSON.stringify([status, customer, cursor]);
  const [stale, answered] = useAnswered(queryKey);
  const [error, setError] = useState<unknown>(null);
  const [fresh, setFresh] = useState<Set<number>>(new Set());
  const trail = useRef<(string | null)[]>([]);
  // The highest order id seen under these filters (null before the first load).
  const newest = useRef<number | null>(null);

  useEffect(() => {
    loadUsers().then(setUsers, () => setUsers([]));
  }, []);

  useEffect(() => {
    let controller = new AbortController();
    newest.current = null;
    setFresh(new Set());
    const load = (quiet: boolean) => {
      controller.abort();
      controller = new AbortController();
      const signal = controller.signal;
      if (!quiet) setError(null);
      client
        .get<Page<Order>>("/orders", { status: status || null, user_id: customer || null, limit: PAGE_SIZE, cursor }, signal)
        .then((next) => {
          // Mark the orders that arrived since the last look (not on the first load).
          const top = Math.max(0, ...next.items.map((order) => order.id));
          const arrived = newest.current === null ? [] : next.items.filter((order) => order.id > (newest.current ?? 0));
          if (arrived.length) setFresh((current) => new Set([...current, ...arrived.map((order) => order.id)]));
          // A new order may come from a new customer: offer them in the filter too.
          if (arrived.length) loadUsers().then(setUsers, () => undefined);
          newest.current = Math.max(newest.current ?? 0, top);
          setPage(next);
          answered(queryKey);
          setError(null);
        })
        .catch((caught: unknown) => {
          if (!signal.aborted && !quiet) setError(caught);
        });
    };
    load(false);
    // Only the first page changes when orders arrive; a later page keeps still while read.
    if (cursor !== null) return () => controller.abort();
    const stop = onNotification(() => load(true));
    const timer = setInterval(() => document.visibilityState === "visible" && load(true), POLL_MS);
    return () => {
      controller.abort();
      stop();
      clearInterval(timer);
    };
  }, [status, customer, cursor]);

  function show(next: Record<string, string | null>, keepTrail = false) {
    if (!keepTrail) trail.current = [];
    navigate(href("/orders", { ...filters, ...next }));
  }

  return (
    <>
      <div class="page-head">
        <h1>Orders</h1>
      </div>
      <form class="filters" aria-label="Order filters" onSubmit={(event) => event.preventDefault()}>
        <div class="field">
          <label for="order-status">Status</label>
          <select id="order-status" value={status} onChange={(event) => show({ status: event.currentTarget.value || null, cursor: null })}>
            <option value="">Any status</option>
            {STATUSES.map((value) => (
              <option key={value} value={value}>
                {formatStatus(value)}
              </option>
            ))}
          </select>
        </div>
        <div class="field grow">
          <label for="order-customer">Customer</label>
          <select
            id="order-customer"
            value={customer}
            onChange={(event) => show({ user_id: event.currentTarget.value || null, cursor: null })}
          >
            <option value="">Every customer</option>
            {users.map((user) => (
              <option key={user.id} value={String(user.id)}>
                {user.email}
              </option>
            ))}
          </select>
        </div>
      </form>

      {error !== null && <ErrorNotice error={error} action="Loading the orders failed" />}
      {page === null && error === null && <p role="status">Loading the orders…</p>}
      {page !== null && (
        <>
          <p class="muted" role="status">
            {pageSummary(
              page.items.length,
              "order",
              trail.current.length + 1,
              ", newest first; new orders appear as they come",
            )}
          </p>
          {page.items.length > 0 && (
            <div class="table-wrap" tabIndex={0} role="region" aria-label="Orders (scrolls sideways)">
              <table class="orders">
                <caption class="sr-only">Orders</caption>
                <thead>
                  <tr>
                    <th scope="col">Order</th>
                    <th scope="col">Status</th>
                    <th scope="col" class="num">
                      Items
                    </th>
                    <th scope="col" class="num">
                      Total
                    </th>
                    <th scope="col">Payment</th>
                    <th scope="col">Created</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((order) => (
                    <tr key={order.id} data-order-id={order.id} class={fresh.has(order.id) ? "fresh" : undefined}>
                      <th scope="row">
                        <a href={href(`/orders/${order.id}`)} onClick={onLinkClick}>
                          #{order.id}
                        </a>
                        {fresh.has(order.id) && <span class="badge">new</span>}
                      </th>
                      <td data-status={order.status}>{formatStatus(order.status)}</td>
                      <td class="num">{formatCount(order.items.reduce((sum, line) => sum + line.quantity, 0))}</td>
                      <td class="num">{formatMoney(order.total)}</td>
                      <td>{order.payment_status ?? "—"}</td>
                      <td>{formatMoment(order.created_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            trail={trail}
            cursor={cursor}
            next={page.next_cursor}
            go={(next) => show({ cursor: next }, true)}
            stale={stale}
          />
        </>
      )}
    </>
  );
}
