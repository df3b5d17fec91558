import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, type User, client } from "../api";

export function SignIn({ onSignedIn }: { onSignedIn: (user: User) => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const errorRef = useRef<HTMLDivElement>(null);

  useEffect(() => {
    document.title = "Sign in · Storefront admin";
  }, []);
  useEffect(() => {
    if (error) errorRef.current?.focus();
  }, [error]);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await client.login(email.trim(), password);
      onSignedIn(await client.get<User>("/users/me"));
    } catch (caught) {
      setError(describe(caught));
      setBusy(false);
    }
  }

  return (
    <main id="main" class="narrow signin">
      <h1>Sign in to Storefront admin</h1>
      <form onSubmit={submit} noValidate={false} aria-describedby={error ? "signin-error" : undefined}>
        {error && (
          <div id="signin-error" class="notice error" role="alert" tabIndex={-1} ref={errorRef}>
            {error}
          </div>
        )}
        <label for="email">Email</label>
        <input
          id="email"
          name="email"
          type="email"
          autoComplete="username"
          required
          value={email}
          onInput={(event) => setEmail(event.currentTarget.value)}
        />
        <label for="password">Password</label>
        <input
          id="password"
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onInput={(event) => setPassword(event.currentTarget.value)}
        />
        <button type="submit" disabled={busy}>
          {busy ? "Signing in…" : "Sign in"}
        </button>
      </form>
    </main>
  );
}

function describe(error: unknown): string {
  if (!(error instanceof ApiError)) return "The server could not be reached. Try again.";
  switch (error.status) {
    case 401:
      return "Wrong email or password.";
    case 422:
      return "Enter your email address and password.";
    case 429:
      return error.retryAfter
        ? `Too many attempts. Try again in ${Math.ceil(error.retryAfter / 60)} minute(s).`
        : "Too many attempts. Try again later.";
    default:
      return error.message;
  }
}
