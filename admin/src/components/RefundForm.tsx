// Refund part or all of an order (POST /orders/{id}/refunds). Without an amount the API
// refunds all that is left; it refuses (409) more than was paid, and a 422 names the field.
import { useState } from "preact/hooks";
import { ApiError, client } from "../api";
import { formatMoney } from "../format";
import type { Order } from "../types";
import { FieldError, fieldAttributes } from "./Field";
import { ErrorNotice } from "./Notice";

interface Refund {
  id: number;
  amount: string;
}

export function RefundForm({ order, onRefunded }: { order: Order; onRefunded: (message: string) => void }) {
  const [amount, setAmount] = useState("");
  const [reason, setReason] = useState("");
  const [restock, setRestock] = useState(false);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const left = Number(order.total) - Number(order.refunded_total);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setProblem(null);
    try {
      const body = { restock, ...(amount.trim() ? { amount: amount.trim() } : {}), ...(reason.trim() ? { reason: reason.trim() } : {}) };
      const refund = await client.json<Refund>("POST", `/orders/${order.id}/refunds`, { body });
      setAmount("");
      setReason("");
      onRefunded(`Refunded ${formatMoney(refund.amount)}${restock ? ", units back in stock" : ""}.`);
    } catch (caught) {
      if (caught instanceof ApiError && caught.status === 422) setErrors(caught.fieldErrors());
      setProblem(caught);
    } finally {
      setBusy(false);
    }
  }

  return (
    <section class="card" aria-labelledby="refund-title">
      <h2 id="refund-title">Refund</h2>
      {problem !== null && <ErrorNotice error={problem} action="The refund was refused" />}
      <form class="filters" onSubmit={submit} noValidate>
        <div class="field">
          <label for="refund-amount">Amount</label>
          <input
            {...fieldAttributes("refund-amount", errors.amount, "refund-amount-hint")}
            inputMode="decimal"
            value={amount}
            onInput={(event) => setAmount(event.currentTarget.value)}
          />
          <FieldError id="refund-amount" error={errors.amount} />
        </div>
        <div class="field grow">
          <label for="refund-reason">Reason</label>
          <input
            {...fieldAttributes("refund-reason", errors.reason)}
            value={reason}
            maxLength={500}
            onInput={(event) => setReason(event.currentTarget.value)}
          />
          <FieldError id="refund-reason" error={errors.reason} />
        </div>
        <label class="inline">
          <input type="checkbox" checked={restock} onChange={(event) => setRestock(event.currentTarget.checked)} />
          Put the units back in stock
        </label>
        <button type="submit" disabled={busy}>
          Refund
        </button>
      </form>
      <p id="refund-amount-hint" class="hint refund">
        Amount: empty refunds all that is left ({formatMoney(left)}).
      </p>
    </section>
  );
}
