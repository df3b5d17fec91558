// Shapes of the public API's responses the console reads (../shared/api-contract.md).

export type OrderStatus = "pending_payment" | "placed" | "shipped" | "delivered" | "cancelled" | "refunded";

export interface Analytics {
  from: string;
  to: string;
  days: { date: string; orders: number; revenue: string }[];
  top_products: { by_revenue: TopProduct[]; by_units: TopProduct[] };
  orders_by_status: Partial<Record<OrderStatus, number>>;
  low_stock: { product_id: number; title: string; stock: number; low_stock_threshold: number }[];
}

export interface TopProduct {
  product_id: number;
  title: string;
  units: number;
  revenue: string;
}

export interface Category {
  id: number;
  name: string;
  slug: string;
}

export interface Product {
  id: number;
  slug: string;
  title: string;
  description: string | null;
  category: Category;
  price: string;
  stock: number;
  low_stock_threshold: number;
  seo_keywords: string[];
  created_at: string;
  updated_at: string;
}

export type ProductSort = "-created_at" | "created_at" | "price" | "-price" | "title" | "-title";

/** The writable fields of a product (POST, and PATCH with only what changed). */
export interface ProductInput {
  title: string;
  slug?: string;
  description: string;
  category: string; // the category's slug
  price: string;
  stock: number;
  low_stock_threshold: number;
  seo_keywords: string[];
}

export interface Generated {
  description: string;
  seo_keywords: string[];
  /** Who wrote it ("local" is the offline generator); null when nothing was generated. */
  provider: string | null;
}

export interface OrderLine {
  product_id: number;
  title: string;
  unit_price: string;
  quantity: number;
  line_total: string;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string | null;
  city: string;
  postal_code: string;
  country: string;
  phone?: string | null;
}

export interface Order {
  id: number;
  status: OrderStatus;
  items: OrderLine[];
  total: string;
  shipping_address: ShippingAddress | null;
  shipping_total: string;
  tax_total: string;
  refunded_total: string;
  payment_status: string | null;
  created_at: string;
  updated_at: string;
}

export interface AdminUser {
  id: number;
  email: string;
  name: string;
  role: "customer" | "admin";
  is_active: boolean;
  created_at: string;
}

export interface Job {
  id: number;
  name: string;
  payload: Record<string, unknown>;
  status: "pending" | "running" | "done" | "dead";
  attempts: number;
  max_attempts: number;
  last_error: string | null;
  available_at: string;
  created_at: string;
  finished_at: string | null;
}

export interface ProviderStatus {
  name: string;
  available: boolean;
  reason: string | null;
  /** closed, open or half_open; null for the offline generator. */
  circuit: string | null;
  calls: number;
  failures: Record<string, number>;
  input_tokens: number;
  output_tokens: number;
}

export interface AiStatus {
  providers: ProviderStatus[];
  tokens_today: number;
  daily_token_budget: number | null;
}

export interface Notification {
  id: number;
  kind: string; // order_placed, low_stock, sold_out, …
  title: string;
  body: string;
  data: Record<string, unknown>;
  read_at: string | null;
  created_at: string;
}
