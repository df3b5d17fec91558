// The live notifications of the signed-in administrator: a header button with the
// unread count, a panel of the latest, and short-lived toasts as they arrive.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Page, client } from "../api";
import { formatMoment } from "../format";
import { type StreamState, onNotification, onStreamState, runStream } from "../live";
import { href, onLinkClick } from "../router";
import type { Notification } from "../types";

const KEEP = 20;
const TOAST_MS = 8000;

/** Where a notification leads: its order, or its product. */
function target(notification: Notification): string | null {
  const { order_id, product_id } = notification.data;
  if (typeof order_id === "number") return href(`/orders/${order_id}`);
  if (typeof product_id === "number") return href(`/products/${product_id}`);
  return null;
}

function merge(items: Notification[], incoming: Notification[]): Notification[] {
  const seen = new Map(items.map((item) => [item.id, item]));
  for (const item of incoming) seen.set(item.id, item);
  return [...seen.values()].sort((a, b) => b.id - a.id).slice(0, KEEP);
}

export function LiveNotifications() {
  const [items, setItems] = useState<Notification[]>([]);
  const [toasts, setToasts] = useState<Notification[]>([]);
  const [state, setState] = useState<StreamState>("connecting");
  const [open, setOpen] = useState(false);
  const panel = useRef<HTMLDivElement>(null);
  const bell = useRef<HTMLButtonElement>(null);

  function close() {
    setOpen(false);
    bell.current?.focus(); // back where the keyboard was
  }

  useEffect(() => {
    const controller = new AbortController();
    const stopState = onStreamState(setState);
    const stopNotes = onNotification((notification) => {
      setItems((current) => merge(current, [notification]));
      setToasts((current) => [notification, ...current.filter((item) => item.id !== notification.id)].slice(0, 3));
      setTimeout(() => setToasts((current) => current.filter((item) => item.id !== notification.id)), TOAST_MS);
    });
    // Each (re)connection catches up on the unread ones it may have missed.
    const catchUp = () =>
      void client
        .get<Page<Notification>>("/notifications", { unread: true, limit: KEEP })
        .then((page) => setItems((current) => merge(current, page.items)), () => undefined);
    void runStream(controller.signal, catchUp);
    return () => {
      controller.abort();
      stopState();
      stopNotes();
    };
  }, []);

  useEffect(() => {
    if (open) panel.current?.focus();
  }, [open]);

  const unread = items.filter((item) => item.read_at === null).length;

  async function readAll() {
    await client.send("POST", "/notifications/read-all").catch(() => undefined);
    const now = new Date().toISOString();
    setItems((current) => current.map((item) => ({ ...item, read_at: item.read_at ?? now })));
  }

  return (
    <div class="live" onKeyDown={(event) => event.key === "Escape" && open && close()}>
      <button
        type="button"
        class="secondary bell"
        ref={bell}
        aria-expanded={open}
        aria-controls="notifications-panel"
        data-stream={state}
        onClick={() => setOpen(!open)}
      >
        Notifications
        {unread > 0 && <span class="badge">{unread}</span>}
        <span class="sr-only">{unread > 0 ? ` (${unread} unread)` : ""}</span>
        <span class={`dot ${state}`} title={state === "live" ? "Live" : "Reconnecting"} aria-hidden="true" />
      </button>
      {open && (
        <div id="notifications-panel" class="panel" tabIndex={-1} ref={panel} aria-label="Notifications" role="region">
          <div class="panel-head">
            <h2>Notifications</h2>
            <span class="muted">{state === "live" ? "Live" : "Reconnecting…"}</span>
          </div>
          {items.length === 0 ? (
            <p class="muted">Nothing new. New orders' low stock and sold-out products appear here as they happen.</p>
          ) : (
            <ul class="notes">
              {items.map((item) => (
                <li key={item.id} class={item.read_at ? "note" : "note unread"} data-kind={item.kind}>
                  <Note item={item} />
                </li>
              ))}
            </ul>
          )}
          <div class="actions">
            <button type="button" class="secondary" disabled={unread === 0} onClick={() => void readAll()}>
              Mark all read
            </button>
            <button type="button" class="secondary" onClick={close}>
              Close
            </button>
          </div>
        </div>
      )}
      <div class="toasts" role="status" aria-live="polite">
        {toasts.map((item) => (
          <div class="toast" key={item.id} data-kind={item.kind}>
            <Note item={item} />
            <button
              type="button"
              class="secondary"
              aria-label={`Dismiss: ${item.title}`}
              onClick={() => setToasts((current) => current.filter((toast) => toast.id !== item.id))}
            >
              ×
            </button>
          </div>
        ))}
      </div>
    </div>
  );
}

function Note({ item }: { item: Notification }) {
  const link = target(item);
  return (
    <div class="note-body">
      <strong>
        {link ? (
          <a href={link} onClick={onLinkClick}>
            {item.title}
          </a>
        ) : (
          item.title
        )}
      </strong>
      <span>{item.body}</span>
      <span class="muted small">{formatMoment(item.created_at)}</span>
    </div>
  );
}
