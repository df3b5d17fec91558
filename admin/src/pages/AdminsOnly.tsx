import { useEffect } from "preact/hooks";
import type { User } from "../api";

/** A customer account signed in: the console is not for them, and says so plainly. */
export function AdminsOnly({ user, onSignOut }: { user: User; onSignOut: () => Promise<void> }) {
  useEffect(() => {
    document.title = "Administrators only · Storefront admin";
  }, []);
  return (
    <main id="main" class="narrow">
      <h1>Administrators only</h1>
      <p>
        You are signed in as <strong>{user.email}</strong>, a customer account. The admin console is for the
        people who run the shop.
      </p>
      <p>Sign out, then sign in with an administrator account.</p>
      <button type="button" onClick={() => void onSignOut()}>
        Sign out
      </button>
    </main>
  );
}
