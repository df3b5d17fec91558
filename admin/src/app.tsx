// The shell: restores the session, gates the console to administrators, and lays out
// the signed-in pages with their navigation.
import { useCallback, useEffect, useMemo, useRef, useState } from "preact/hooks";
import { type User, client } from "./api";
import { AdminsOnly } from "./pages/AdminsOnly";
import { LiveNotifications } from "./components/Live";
import { NotFound } from "./pages/NotFound";
import { SignIn } from "./pages/SignIn";
import { type Location, href, navigate, onLinkClick, useLocation } from "./router";
import { ROUTES, match } from "./routes";
import { SessionContext, type SessionValue } from "./session";

type Auth = { state: "checking" } | { state: "signed-out" } | { state: "signed-in"; user: User };

const SITE = "Storefront admin";

export function App() {
  const location = useLocation();
  const [auth, setAuth] = useState<Auth>(() => (client.hasSession ? { state: "checking" } : { state: "signed-out" }));

  useEffect(() => {
    client.onSessionLost = () => setAuth({ state: "signed-out" });
    if (auth.state !== "checking") return;
    client
      .get<User>("/users/me")
      .then((user) => setAuth({ state: "signed-in", user }))
      .catch(() => setAuth({ state: "signed-out" }));
  }, []);

  const signOut = useCallback(async () => {
    await client.logout();
    setAuth({ state: "signed-out" });
    navigate(href("/login"), { replace: true });
  }, []);

  const signedIn = auth.state === "signed-in" ? auth.user : null;
  const session = useMemo<SessionValue | null>(() => (signedIn ? { user: signedIn, signOut } : null), [signedIn, signOut]);

  // Keep the address in step with the state: /login when signed out, away from it when in.
  useEffect(() => {
    if (auth.state === "signed-out" && location.path !== "/login") {
      const next = location.path === "/" ? null : location.path + (location.query.size ? `?${location.query}` : "");
      navigate(href("/login", { next }), { replace: true });
    } else if (auth.state === "signed-in" && location.path === "/login") {
      const next = location.query.get("next");
      navigate(next && next.startsWith("/") && !next.startsWith("//") ? href(next) : href("/"), { replace: true });
    }
  }, [auth.state, location.path]);

  if (auth.state === "checking") {
    return (
      <main id="main" class="splash">
        <p role="status">Loading the console…</p>
      </main>
    );
  }
  if (auth.state === "signed-out" || session === null) {
    return <SignIn onSignedIn={(user) => setAuth({ state: "signed-in", user })} />;
  }
  if (session.user.role !== "admin") {
    return <AdminsOnly user={session.user} onSignOut={signOut} />;
  }
  return (
    <SessionContext.Provider value={session}>
      <Layout location={location} />
    </SessionContext.Provider>
  );
}

function Layout({ location }: { location: Location }) {
  const found = match(location.path);
  const route = found?.route;
  const main = useRef<HTMLElement>(null);
  const firstPath = useRef(location.path);

  useEffect(() => {
    document.title = route ? `${route.title} · ${SITE}` : `Not found · ${SITE}`;
    // After an in-app navigation, take focus to the new page (as a page load would).
    if (location.path !== firstPath.current) {
      firstPath.current = "";
      main.current?.focus();
    }
  }, [location.path]);

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <Header current={route ? (route.section ?? route.path) : null} />
      <main id="main" ref={main} tabIndex={-1}>
        {found ? found.route.render(location, found.params) : <NotFound />}
      </main>
    </div>
  );
}

function Header({ current }: { current: string | null }) {
  return (
    <SessionContext.Consumer>
      {(session) => (
        <header class="topbar">
          <a class="brand" href={href("/")} onClick={onLinkClick}>
            Storefront <span>admin</span>
          </a>
          <nav aria-label="Main">
            <ul>
              {ROUTES.filter((route) => route.nav).map((route) => (
                <li key={route.path}>
                  <a
                    href={href(route.path)}
                    onClick={onLinkClick}
                    aria-current={route.path === current ? "page" : undefined}
                  >
                    {route.title}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          {session && (
            <div class="account">
              <LiveNotifications />
              <span class="who" title={session.user.email}>
                {session.user.email}
              </span>
              <button type="button" class="secondary" onClick={() => void session.signOut()}>
                Sign out
              </button>
            </div>
          )}
        </header>
      )}
    </SessionContext.Consumer>
  );
}
