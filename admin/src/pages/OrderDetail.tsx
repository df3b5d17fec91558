// One order: lines and totals, the checkout's copies (address, shipping, tax, payment),
// refunds, and the lifecycle moves the contract allows from its status. A move the API
// refuses (409: someone else moved it first) is shown, and the order is read again.
import { useEffect, useState } from "preact/hooks";
import { client } from "../api";
import { DoneNotice, ErrorNotice } from "../components/Notice";
import { RefundForm } from "../components/RefundForm";
import { formatMoment, formatMoney, formatStatus } from "../format";
import { onNotification } from "../live";
import { href, onLinkClick } from "../router";
import type { Order, OrderStatus } from "../types";

interface Move {
  label: string;
  /** What the button does, in the API's terms. */
  path: string;
  body?: unknown;
}

// The contract's lifecycle (../shared/api-contract.md, "Orders" and "Cart, checkout"):
// pending_payment → placed by a recorded payment, or → cancelled; placed → shipped or
// cancelled; shipped → delivered. Nothing else is offered.
function moves(order: Order): Move[] {
  const status = (path: string, label: string, target: OrderStatus): Move => ({ label, path, body: { status: target } });
  switch (order.status) {
    case "pending_payment":
      return [
        { label: "Record payment", path: `/orders/${order.id}/payments/capture` },
        { label: "Cancel order", path: `/orders/${order.id}/cancel` },
      ];
    case "placed":
      return [status(`/orders/${order.id}/status`, "Mark shipped", "shipped"), { label: "Cancel order", path: `/orders/${order.id}/cancel` }];
    case "shipped":
      return [status(`/orders/${order.id}/status`, "Mark delivered", "delivered")];
    default:
      return [];
  }
}

// Money was taken (or the order was settled on account) and not all of it given back.
const refundable = (order: Order): boolean =>
  ["placed", "shipped", "delivered"].includes(order.status) && Number(order.refunded_total) < Number(order.total);

const subtotalOf = (order: Order): number => order.items.reduce((sum, line) => sum + Number(line.line_total), 0);

export function OrderDetail({ id }: { id: number }) {
  const [order, setOrder] = useState<Order | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [refused, setRefused] = useState<{ action: string; error: unknown } | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const load = () =>
    client.get<Order>(`/orders/${id}`).then(
      (next) => {
        setOrder(next);
        setError(null);
      },
      (caught: unknown) => setError(caught),
    );

  useEffect(() => {
    void load();
    // A notification about this order (its payment, say) shows at once.
    return onNotification((note) => {
      if (note.data.order_id === id) void load();
    });
  }, [id]);

  async function run(move: Move) {
    setBusy(true);
    setRefused(null);
    setDone(null);
    try {
      const next = await client.json<Order>("POST", move.path, move.body === undefined ? {} : { body: move.body });
      setOrder(next);
      setDone(`${move.label}: the order is now ${formatStatus(next.status).toLowerCase()}.`);
    } catch (caught) {
      setRefused({ action: `${move.label} was refused`, error: caught });
      await load();
    } finally {
      setBusy(false);
    }
  }

  if (error !== null) return <ErrorNotice error={error} action={`Loading order ${id} failed`} />;
  if (order === null) return <p role="status">Loading the order…</p>;
  const available = moves(order);

  return (
    <>
      <div class="page-head">
        <h1>Order #{order.id}</h1>
        <a href={href("/orders")} onClick={onLinkClick}>
          Back to orders
        </a>
      </div>
      <DoneNotice message={done} />
      {refused && <ErrorNotice error={refused.error} action={refused.action} />}
      <div class="grid">
        <section class="card" aria-labelledby="order-state">
          <h2 id="order-state">Status</h2>
          <dl class="facts">
            <dt>Status</dt>
            <dd id="order-status" data-status={order.status}>
              {formatStatus(order.status)}
            </dd>
            <dt>Payment</dt>
            <dd>{order.payment_status ?? "Settled outside the shop (direct order)"}</dd>
            <dt>Created</dt>
            <dd>{formatMoment(order.created_at)}</dd>
            <dt>Updated</dt>
            <dd>{formatMoment(order.updated_at)}</dd>
          </dl>
          {available.length > 0 ? (
            <div class="actions" role="group" aria-label="Lifecycle">
              {available.map((move) => (
                <button type="button" key={move.label} disabled={busy} class={move.label.startsWith("Cancel") ? "secondary" : ""} onClick={() => void run(move)}>
                  {move.label}
                </button>
              ))}
            </div>
          ) : (
            <p class="muted">No further step: the order is {formatStatus(order.status).toLowerCase()}.</p>
          )}
        </section>
        <section class="card" aria-labelledby="order-address">
          <h2 id="order-address">Shipping address</h2>
          {order.shipping_address ? (
            <address>
              {[
                order.shipping_address.name,
                order.shipping_address.line1,
                order.shipping_address.line2,
                `${order.shipping_address.postal_code} ${order.shipping_address.city}`,
                order.shipping_address.country,
                order.shipping_address.phone,
              ]
                .filter(Boolean)
                .map((line) => (
                  <span key={line} class="line">
                    {line}
                  </span>
                ))}
            </address>
          ) : (
            <p class="muted">None: a direct order, not bought through the cart.</p>
          )}
        </section>
      </div>
      <section class="card" aria-labelledby="order-lines">
        <h2 id="order-lines">Lines</h2>
        <div class="table-wrap" tabIndex={0} role="region" aria-label="Order lines (scrolls sideways)">
          <table class="lines">
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col" class="num">
                  Unit price
                </th>
                <th scope="col" class="num">
                  Quantity
                </th>
                <th scope="col" class="num">
                  Line total
                </th>
              </tr>
            </thead>
            <tbody>
              {order.items.map((line) => (
                <tr key={line.product_id}>
                  <th scope="row">
                    <a href={href(`/products/${line.product_id}`)} onClick={onLinkClick}>
                      {line.title}
                    </a>
                  </th>
                  <td class="num">{formatMoney(line.unit_price)}</td>
                  <td class="num">{line.quantity}</td>
                  <td class="num">{formatMoney(line.line_total)}</td>
                </tr>
              ))}
            </tbody>
            <tfoot>
              <Total label="Subtotal" value={subtotalOf(order)} />
              <Total label="Shipping" value={order.shipping_total} />
              <Total label="Tax" value={order.tax_total} />
              <Total label="Total" value={order.total} id="order-total" />
              {Number(order.refunded_total) > 0 && <Total label="Refunded" value={order.refunded_total} id="order-refunded" />}
            </tfoot>
          </table>
        </div>
      </section>
      {refundable(order) && (
        <RefundForm
          order={order}
          onRefunded={(text) => {
            setRefused(null);
            setDone(text);
            void load();
          }}
        />
      )}
    </>
  );
}

function Total({ label, value, id }: { label: string; value: string | number; id?: string }) {
  return (
    <tr>
      <th scope="row" colSpan={3} class="num">
        {label}
      </th>
      <td class="num" id={id}>
        {formatMoney(value)}
      </td>
    </tr>
  );
}
