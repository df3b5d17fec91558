// The console's only way to the server: the public JSON API under /api/v1, with the
// same bearer tokens as any other client (docs/admin.md, "Tokens").
//
// The access token lives in this module's memory only. The refresh token is kept in
// sessionStorage so that a reload of the tab does not sign the administrator out; it
// is spent and replaced on every refresh (rotation), and a spent one presented again
// revokes the whole login on the server.

export const API = "/api/v1";
const REFRESH_KEY = "storefront.admin.refresh";

export interface ErrorBody {
  code: string;
  message: string;
  request_id: string;
  details: unknown;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly requestId: string | null,
    readonly details: unknown,
    readonly retryAfter: number | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Field errors of a 422, keyed by the field's dotted path. */
  fieldErrors(): Record<string, string> {
    const errors: Record<string, string> = {};
    if (Array.isArray(this.details)) {
      for (const item of this.details as { field?: unknown; message?: unknown }[]) {
        if (typeof item.field === "string" && typeof item.message === "string") {
          errors[item.field] = item.message;
        }
      }
    }
    return errors;
  }
}

export interface TokenPair {
  access_token: string;
  refresh_token: string;
  token_type: "bearer";
  expires_in: number;
}

export type Role = "customer" | "admin";

export interface User {
  id: number;
  email: string;
  name: string;
  role: Role;
  created_at: string;
}

export interface Page<T> {
  items: T[];
  next_cursor: string | null;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

interface RequestOptions {
  query?: Query;
  body?: unknown;
  signal?: AbortSignal;
  /** Send no bearer token (sign-in, refresh). */
  anonymous?: boolean;
  /** Extra headers (If-Match, Accept for the event stream). */
  headers?: Record<string, string>;
}

export function url(path: string, query?: Query): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query ?? {})) {
    if (value !== null && value !== undefined && value !== "") params.set(key, String(value));
  }
  const search = params.toString();
  return `${API}${path}${search ? `?${search}` : ""}`;
}

async function toError(response: Response): Promise<ApiError> {
  const retry = response.headers.get("Retry-After");
  const retryAfter = retry !== null && /^\d+$/.test(retry) ? Number(retry) : null;
  try {
    const body = (await response.json()) as { error?: ErrorBody };
    if (body.error) {
      const { code, message, request_id, details } = body.error;
      return new ApiError(response.status, code, message, request_id, details, retryAfter);
    }
  } catch {
    // Not the contract's envelope (a proxy's page, say): fall through.
  }
  const requestId = response.headers.get("X-Request-ID");
  return new ApiError(response.status, "HTTP_ERROR", `The server answered ${response.status}`, requestId, null, retryAfter);
}

function readStoredRefresh(): string | null {
  try {
    return sessionStorage.getItem(REFRESH_KEY);
  } catch {
    return null; // storage disabled: the session lasts as long as the page
  }
}

function storeRefresh(token: string | null): void {
  try {
    if (token === null) sessionStorage.removeItem(REFRESH_KEY);
    else sessionStorage.setItem(REFRESH_KEY, token);
  } catch {
    // storage disabled
  }
}

export class Client {
  private accessToken: string | null = null;
  private refreshToken: string | null = readStoredRefresh();
  private refreshing: Promise<boolean> | null = null;
  /** Called once the session is gone for good (refresh refused, signed out elsewhere). */
  onSessionLost: (() => void) | null = null;

  get hasSession(): boolean {
    return this.accessToken !== null || this.refreshToken !== null;
  }

  private adopt(pair: TokenPair): void {
    this.accessToken = pair.access_token;
    this.refreshToken = pair.refresh_token;
    storeRefresh(pair.refresh_token);
  }

  private forget(): void {
    this.accessToken = null;
    this.refreshToken = null;
    storeRefresh(null);
  }

  async login(email: string, password: string): Promise<void> {
    this.adopt(await this.json<TokenPair>("POST", "/auth/login", { body: { email, password }, anonymous: true }));
  }

  /**
   * A new token pair for the refresh token, once at a time: concurrent callers share
   * one request, since presenting the same refresh token twice revokes the login.
   */
  refresh(): Promise<boolean> {
    if (this.refreshing) return this.refreshing;
    const token = this.refreshToken;
    if (token === null) return Promise.resolve(false);
    this.refreshing = (async () => {
      try {
        const response = await fetch(url("/auth/refresh"), {
          method: "POST",
          headers: { "Content-Type": "application/json", Accept: "application/json" },
          body: JSON.stringify({ refresh_token: token }),
          credentials: "omit",
        });
        if (!response.ok) {
          if (response.status === 401) this.forget();
          return false;
        }
        this.adopt((await response.json()) as TokenPair);
        return true;
      } catch {
        return false; // offline: keep the refresh token for the next try
      } finally {
        this.refreshing = null;
      }
    })();
    return this.refreshing;
  }

  async logout(): Promise<void> {
    const refreshToken = this.refreshToken;
    try {
      if (this.accessToken !== null) {
        await this.send("POST", "/auth/logout", { body: refreshToken ? { refresh_token: refreshToken } : undefined });
      }
    } catch {
      // Signing out locally is what matters; the server forgets the tokens as they expire.
    } finally {
      this.forget();
    }
  }

  /** The raw response of an authenticated request, refreshing once on a 401. */
  async send(method: string, path: string, options: RequestOptions = {}): Promise<Response> {
    if (!options.anonymous && this.accessToken === null && this.refreshToken !== null) {
      await this.refresh();
    }
    let response = await this.fetchOnce(method, path, options);
    if (response.status === 401 && !options.anonymous && this.refreshToken !== null) {
      if (await this.refresh()) response = await this.fetchOnce(method, path, options);
    }
    if (response.status === 401 && !options.anonymous) {
      this.forget();
      this.onSessionLost?.();
    }
    if (!response.ok) throw await toError(response);
    return response;
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    return (await response.json()) as T;
  }

  get<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.json<T>("GET", path, { ...(query ? { query } : {}), ...(signal ? { signal } : {}) });
  }

  /** A JSON body with the response's ETag (products: the If-Match of the next write). */
  async tagged<T>(method: string, path: string, options: RequestOptions = {}): Promise<{ body: T; etag: string | null }> {
    const response = await this.send(method, path, options);
    return { body: (await response.json()) as T, etag: response.headers.get("ETag") };
  }

  private fetchOnce(method: string, path: string, options: RequestOptions): Promise<Response> {
    const headers: Record<string, string> = { Accept: "application/json", ...options.headers };
    if (!options.anonymous && this.accessToken !== null) headers.Authorization = `Bearer ${this.accessToken}`;
    const init: RequestInit = { method, headers, credentials: "omit", cache: "no-store" };
    if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(options.body);
    }
    if (options.signal) init.signal = options.signal;
    return fetch(url(path, options.query), init);
  }
}

export const client = new Client();
