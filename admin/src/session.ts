// Who is signed in, shared by the pages through a context.
import { createContext } from "preact";
import { useContext } from "preact/hooks";
import type { User } from "./api";

export interface SessionValue {
  user: User;
  signOut: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const session = useContext(SessionContext);
  if (session === null) throw new Error("useSession outside a signed-in page");
  return session;
}
