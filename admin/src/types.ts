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
