// Live notifications: GET /notifications/stream (server-sent events) read with fetch.
//
// Why not EventSource: it cannot send an Authorization header, and the contract
// authenticates the stream like every other call, by the bearer token (it defines no
// token-in-the-URL or ticket; a token in a URL would also land in logs). fetch sends the
// header, goes through the same 401 → refresh → retry as every call, and reads the body
// as a stream. Reconnection (EventSource's job) is done here: after the server's `retry`
// hint, or with a growing back-off, and each (re)connection first catches up on what
// arrived while the stream was down (the unread notifications).
import { ApiError, client } from "./api";
import type { Notification } from "./types";

export type StreamState = "connecting" | "live" | "offline";

type NotificationListener = (notification: Notification) => void;
type StateListener = (state: StreamState) => void;

const notificationListeners = new Set<NotificationListener>();
const stateListeners = new Set<StateListener>();

/** Called for each notification as it arrives; returns the unsubscribe. */
export function onNotification(listener: NotificationListener): () => void {
  notificationListeners.add(listener);
  return () => notificationListeners.delete(listener);
}

export function onStreamState(listener: StateListener): () => void {
  stateListeners.add(listener);
  return () => stateListeners.delete(listener);
}

function setState(state: StreamState): void {
  for (const listener of stateListeners) listener(state);
}

function publish(data: string): void {
  let notification: Notification;
  try {
    notification = JSON.parse(data) as Notification;
  } catch {
    return; // not a notification: nothing to show
  }
  for (const listener of notificationListeners) listener(notification);
}

/**
 * Read one connection's events until it ends. Returns the server's `retry` hint (ms)
 * if it sent one. The format: lines of `field: value`, an empty line ends an event,
 * lines starting with ":" are comments (the server's pings).
 */
async function readEvents(body: ReadableStream<Uint8Array>, onOpen: () => void): Promise<number | null> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  let event = "message";
  let data: string[] = [];
  let retry: number | null = null;
  let opened = false;
  for (;;) {
    const { value, done } = await reader.read();
    if (done) return retry;
    if (!opened) {
      opened = true;
      onOpen();
    }
    buffer += decoder.decode(value, { stream: true });
    const lines = buffer.split(/\r\n|\r|\n/);
    buffer = lines.pop() ?? "";
    for (const line of lines) {
      if (line === "") {
        if (event === "notification" && data.length) publish(data.join("\n"));
        event = "message";
        data = [];
        continue;
      }
      if (line.startsWith(":")) continue;
      const colon = line.indexOf(":");
      const field = colon === -1 ? line : line.slice(0, colon);
      const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "retry" && /^\d+$/.test(value)) retry = Number(value);
    }
  }
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener("abort", () => {
      clearTimeout(timer);
      resolve();
    });
  });

/**
 * Keep one stream open until `signal` aborts. `onConnected` runs at each (re)connection,
 * so the caller can catch up on what it missed while offline.
 */
export async function runStream(signal: AbortSignal, onConnected: () => void): Promise<void> {
  let delay = 1000;
  while (!signal.aborted) {
    setState("connecting");
    let wait = delay;
    try {
      const response = await client.send("GET", "/notifications/stream", {
        signal,
        headers: { Accept: "text/event-stream" },
      });
      if (!response.body) throw new Error("no body");
      const retry = await readEvents(response.body, () => {
        delay = 1000;
        setState("live");
        onConnected();
      });
      wait = retry ?? 1000; // the server closed it (a restart): come back soon
    } catch (error) {
      if (signal.aborted) break;
      if (error instanceof ApiError && error.status === 401) break; // signed out: the shell takes over
      if (error instanceof ApiError && error.retryAfter !== null) wait = error.retryAfter * 1000;
      delay = Math.min(delay * 2, 30_000);
    }
    if (signal.aborted) break;
    setState("offline");
    await sleep(wait, signal);
  }
}
