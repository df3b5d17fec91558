// The console's pages. A later page is one entry here (and one file in pages/).
// A path may hold parameters (`/orders/:id`); the first matching entry wins.
import type { ComponentChild } from "preact";
import type { Location } from "./router";
import { AiStatusPage } from "./pages/AiStatus";
import { Dashboard } from "./pages/Dashboard";
import { Jobs } from "./pages/Jobs";
import { OrderDetail } from "./pages/OrderDetail";
import { Orders } from "./pages/Orders";
import { ProductForm } from "./pages/ProductForm";
import { Products } from "./pages/Products";
import { Users } from "./pages/Users";

export type Params = Record<string, string>;

export interface Route {
  path: string;
  title: string;
  /** Shown in the main navigation. */
  nav: boolean;
  /** The navigation entry marked current on this page (a detail page marks its list). */
  section?: string;
  render: (location: Location, params: Params) => ComponentChild;
}

export const ROUTES: Route[] = [
  { path: "/", title: "Dashboard", nav: true, render: (location) => <Dashboard location={location} /> },
  { path: "/products", title: "Products", nav: true, render: (location) => <Products location={location} /> },
  { path: "/products/new", title: "New product", nav: false, section: "/products", render: () => <ProductForm id={null} /> },
  {
    path: "/products/:id",
    title: "Edit product",
    nav: false,
    section: "/products",
    render: (_, params) => <ProductForm key={params.id} id={Number(params.id)} />,
  },
  { path: "/orders", title: "Orders", nav: true, render: (location) => <Orders location={location} /> },
  {
    path: "/orders/:id",
    title: "Order",
    nav: false,
    section: "/orders",
    render: (_, params) => <OrderDetail key={params.id} id={Number(params.id)} />,
  },
  { path: "/users", title: "Users", nav: true, render: (location) => <Users location={location} /> },
  { path: "/jobs", title: "Jobs", nav: true, render: () => <Jobs /> },
  { path: "/ai", title: "AI status", nav: true, render: () => <AiStatusPage /> },
];

export interface Match {
  route: Route;
  params: Params;
}

export function match(path: string): Match | undefined {
  const parts = (path.length > 1 ? path.replace(/\/+$/, "") : path).split("/");
  for (const route of ROUTES) {
    const pattern = route.path.split("/");
    if (pattern.length !== parts.length) continue;
    const params: Params = {};
    const fits = pattern.every((piece, index) => {
      const part = parts[index] ?? "";
      if (!piece.startsWith(":")) return piece === part;
      // Ids only: anything else is a page that does not exist.
      if (!/^[1-9]\d{0,17}$/.test(part)) return false;
      params[piece.slice(1)] = part;
      return true;
    });
    if (fits) return { route, params };
  }
  return undefined;
}
