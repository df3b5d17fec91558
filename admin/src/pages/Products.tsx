// Products: search, category filter, sort and cursor pages over GET /products and
// GET /products/search. Filters live in the address, so a view can be bookmarked.
import { useEffect, useRef, useState } from "preact/hooks";
import { type Page, client } from "../api";
import { DoneNotice, ErrorNotice } from "../components/Notice";
import { Pager, useAnswered } from "../components/Pager";
import { formatCount, formatMoney, formatMoment, pageSummary } from "../format";
import { takeFlash } from "../flash";
import { type Location, href, navigate, onLinkClick } from "../router";
import type { Category, Product, ProductSort } from "../types";

const SORTS: [ProductSort, string][] = [
  ["-created_at", "Newest first"],
  ["created_at", "Oldest first"],
  ["title", "Title A–Z"],
  ["-title", "Title Z–A"],
  ["price", "Price, low to high"],
  ["-price", "Price, high to low"],
];
const PAGE_SIZE = 25;

let categoriesCache: Promise<Category[]> | null = null;

/** Every category (a shop has few), one page of 100 after another, fetched once. */
export function loadCategories(): Promise<Category[]> {
  categoriesCache ??= (async () => {
    const all: Category[] = [];
    let cursor: string | null = null;
    do {
      const page: Page<Category> = await client.get<Page<Category>>("/categories", { limit: 100, cursor });
      all.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor !== null && all.length < 1000);
    return all.sort((a, b) => a.name.localeCompare(b.name));
  })().catch((error: unknown) => {
    categoriesCache = null;
    throw error;
  });
  return categoriesCache;
}

export function Products({ location }: { location: Location }) {
  const q = location.query.get("q") ?? "";
  const category = location.query.get("category") ?? "";
  const sortParam = location.query.get("sort") as ProductSort | null;
  const sort = SORTS.some(([value]) => value === sortParam) ? (sortParam as ProductSort) : "-created_at";
  const cursor = location.query.get("cursor");
  const filters = { q: q || null, category: category || null, sort: sort === "-created_at" ? null : sort };

  const [categories, setCategories] = useState<Category[]>([]);
  const [page, setPage] = useState<Page<Product> | null>(null);
  const queryKey = JSON.stringify([q, category, sort, cursor]);
  const [stale, answered] = useAnswered(queryKey);
  const [error, setError] = useState<unknown>(null);
  const [search, setSearch] = useState(q);
  const [flash] = useState(takeFlash);
  // Cursors of the pages before this one, so "Previous" can go back.
  const trail = useRef<(string | null)[]>([]);

  useEffect(() => setSearch(q), [q]);
  useEffect(() => {
    loadCategories().then(setCategories, () => setCategories([]));
  }, []);
  useEffect(() => {
    const controller = new AbortController();
    setError(null);
    const query = { category: category || null, limit: PAGE_SIZE, cursor };
    const request = q
      ? client.get<Page<Product>>("/products/search", { ...query, q }, controller.signal)
      : client.get<Page<Product>>("/products", { ...query, sort }, controller.signal);
    request.then(
      (loaded) => {
        setPage(loaded);
        answered(queryKey);
      },
      (caught: unknown) => {
        if (!controller.signal.aborted) setError(caught);
      },
    );
    return () => controller.abort();
  }, [q, category, sort, cursor]); // queryKey is made of these four

  function show(next: Record<string, string | null>, keepTrail = false) {
    if (!keepTrail) trail.current = [];
    navigate(href("/products", { ...filters, ...next }));
  }

  return (
    <>
      <div class="page-head">
        <h1>Products</h1>
        <a class="button" href={href("/products/new")} onClick={onLinkClick}>
          New product
        </a>
      </div>
      <DoneNotice message={flash} />
      <form
        class="filters"
        role="search"
        aria-label="Products"
        onSubmit={(event) => {
          event.preventDefault();
          show({ q: search.trim() || null, cursor: null });
        }}
      >
        <div class="field grow">
          <label for="product-search">Search</label>
          <input
            id="product-search"
            type="search"
            value={search}
            maxLength={200}
            placeholder="Title or description"
            onInput={(event) => setSearch(event.currentTarget.value)}
          />
        </div>
        <div class="field">
          <label for="product-category">Category</label>
          <select
            id="product-category"
            value={category}
            onChange={(event) => show({ category: event.currentTarget.value || null, cursor: null })}
          >
            <option value="">All categories</option>
            {categories.map((item) => (
              <option key={item.id} value={item.slug}>
                {item.name}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="product-sort">Sort</label>
          <select
            id="product-sort"
            value={q ? "" : sort}
            disabled={Boolean(q)}
            aria-describedby={q ? "sort-note" : undefined}
            onChange={(event) => show({ sort: event.currentTarget.value === "-created_at" ? null : event.currentTarget.value, cursor: null })}
          >
            {q && <option value="">Best match</option>}
            {SORTS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
          {q && (
            <p id="sort-note" class="hint">
              Search results come best match first.
            </p>
          )}
        </div>
        <button type="submit">Search</button>
      </form>

      {error !== null && <ErrorNotice error={error} action="Loading the products failed" />}
      {page === null && error === null && <p role="status">Loading the products…</p>}
      {page !== null && (
        <>
          <p class="muted" role="status">
            {pageSummary(page.items.length, "product", trail.current.length + 1)}
          </p>
          {page.items.length > 0 && (
            <div class="table-wrap">
              <table class="products">
                <caption class="sr-only">Products</caption>
                <thead>
                  <tr>
                    <th scope="col">Title</th>
                    <th scope="col">Category</th>
                    <th scope="col" class="num">
                      Price
                    </th>
                    <th scope="col" class="num">
                      Stock
                    </th>
                    <th scope="col">Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((product) => (
                    <tr key={product.id} data-product-id={product.id}>
                      <th scope="row">
                        <a href={href(`/products/${product.id}`)} onClick={onLinkClick}>
                          {product.title}
                        </a>
                        <span class="muted slug">{product.slug}</span>
                      </th>
                      <td>{product.category.name}</td>
                      <td class="num">{formatMoney(product.price)}</td>
                      <td class={product.stock <= product.low_stock_threshold ? "num danger" : "num"}>
                        {formatCount(product.stock)}
                        {product.stock <= product.low_stock_threshold && <span class="sr-only"> (low)</span>}
                      </td>
                      <td>{formatMoment(product.updated_at)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
          <Pager
            trail={trail}
            cursor={cursor}
            next={page.next_cursor}
            go={(next) => show({ cursor: next }, true)}
            stale={stale}
          />
        </>
      )}
    </>
  );
}
