// The console's pages. A later page is one entry here (and one file in pages/).
import type { ComponentChild } from "preact";
import type { Location } from "./router";
import { Dashboard } from "./pages/Dashboard";
import { Products } from "./pages/Products";

export interface Route {
  path: string;
  title: string;
  /** Shown in the main navigation. */
  nav: boolean;
  render: (location: Location) => ComponentChild;
}

export const ROUTES: Route[] = [
  { path: "/", title: "Dashboard", nav: true, render: (location) => <Dashboard location={location} /> },
  { path: "/products", title: "Products", nav: true, render: (location) => <Products location={location} /> },
];

export function match(path: string): Route | undefined {
  const trimmed = path.length > 1 ? path.replace(/\/+$/, "") : path;
  return ROUTES.find((route) => route.path === trimmed);
}
