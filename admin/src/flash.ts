// A one-time message carried across an in-app navigation ("Product created", "Archived"):
// set before navigate(), read once by the page that opens next.
let pending: string | null = null;

export function setFlash(message: string): void {
  pending = message;
}

export function takeFlash(): string | null {
  const message = pending;
  pending = null;
  return message;
}
