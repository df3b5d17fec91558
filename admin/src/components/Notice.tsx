import { ApiError } from "../api";

/** An error as the administrator should read it, with the request id to quote. */
export function ErrorNotice({ error, action }: { error: unknown; action?: string }) {
  const message =
    error instanceof ApiError
      ? error.status === 403
        ? "This needs an administrator account."
        : error.message
      : "The server could not be reached. Check the connection and try again.";
  return (
    <div class="notice error" role="alert">
      <p>
        {action ? `${action}: ` : ""}
        {message}
      </p>
      {error instanceof ApiError && error.requestId && <p class="muted">Request id: {error.requestId}</p>}
    </div>
  );
}

/** What an action just did ("Saved", "Replayed"), announced politely; nothing when null. */
export function DoneNotice({ message }: { message: string | null | undefined }) {
  if (!message) return null;
  return (
    <div class="notice ok" role="status">
      <p>{message}</p>
    </div>
  );
}
