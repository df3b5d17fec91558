// Numbers and dates as an administrator reads them (the API sends money as decimal strings).

const money = new Intl.NumberFormat("en", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const count = new Intl.NumberFormat("en");
const day = new Intl.DateTimeFormat("en", { month: "short", day: "numeric", timeZone: "UTC" });
const moment = new Intl.DateTimeFormat("en", { dateStyle: "medium", timeStyle: "short" });

export const formatMoney = (value: string | number): string => money.format(Number(value));
export const formatCount = (value: number): string => count.format(value);
export const formatDay = (iso: string): string => day.format(new Date(`${iso}T00:00:00Z`));
export const formatMoment = (iso: string): string => moment.format(new Date(iso));

/** A UTC calendar date, `days` before today, as the API's `YYYY-MM-DD`. */
export function isoDay(daysAgo = 0): string {
  const date = new Date();
  date.setUTCDate(date.getUTCDate() - daysAgo);
  return date.toISOString().slice(0, 10);
}

export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000) + 1;
}

const STATUS_LABELS: Record<string, string> = {
  pending_payment: "Awaiting payment",
  placed: "Placed",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
  refunded: "Refunded",
};

export const formatStatus = (status: string): string => STATUS_LABELS[status] ?? status;

/**
 * A list page's status line: "No orders match." or "Showing 25 orders (page 2)." `page` is
 * 1 for the first page, which says `firstPageNote` instead of its number (if any).
 */
export function pageSummary(shown: number, noun: string, page: number, firstPageNote = ""): string {
  if (shown === 0) return `No ${noun}s match.`;
  const where = page > 1 ? ` (page ${page})` : firstPageNote;
  return `Showing ${formatCount(shown)} ${noun}${shown === 1 ? "" : "s"}${where}.`;
}
