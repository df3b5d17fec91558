// Create and edit a product. Field errors come from the API's 422 (`details`, keyed by
// the field's path) and are shown at their fields; an edit sends the ETag it read as
// If-Match, so a product changed meanwhile answers 412 and nothing is overwritten.
import { useEffect, useRef, useState } from "preact/hooks";
import { ApiError, client } from "../api";
import { FieldError, fieldAttributes } from "../components/Field";
import { DoneNotice, ErrorNotice } from "../components/Notice";
import { setFlash, takeFlash } from "../flash";
import { formatMoment } from "../format";
import { href, navigate, onLinkClick } from "../router";
import type { Category, Generated, Product, ProductInput } from "../types";
import { loadCategories } from "./Products";

interface Values {
  title: string;
  slug: string;
  category: string;
  price: string;
  stock: string;
  low_stock_threshold: string;
  description: string;
  seo_keywords: string; // one per line
}

const EMPTY: Values = {
  title: "",
  slug: "",
  category: "",
  price: "",
  stock: "0",
  low_stock_threshold: "5",
  description: "",
  seo_keywords: "",
};

const valuesOf = (product: Product): Values => ({
  title: product.title,
  slug: product.slug,
  category: product.category.slug,
  price: product.price,
  stock: String(product.stock),
  low_stock_threshold: String(product.low_stock_threshold),
  description: product.description ?? "",
  seo_keywords: product.seo_keywords.join("\n"),
});

/** Whole numbers go as numbers; anything else as typed, for the API to name at its field. */
const integer = (value: string): number | string => (/^\s*\d+\s*$/.test(value) ? Number(value) : value);

function bodyOf(values: Values, product: Product | null): ProductInput {
  const body = {
    title: values.title,
    description: values.description,
    category: values.category,
    price: values.price.trim(),
    stock: integer(values.stock),
    low_stock_threshold: integer(values.low_stock_threshold),
    seo_keywords: values.seo_keywords
      .split("\n")
      .map((line) => line.trim())
      .filter(Boolean),
  } as ProductInput;
  // The slug is derived from the title when absent; sent only when typed or changed.
  if (values.slug.trim() && values.slug.trim() !== product?.slug) body.slug = values.slug.trim();
  return body;
}

const CONFLICT_MESSAGE =
  "This product was changed by someone else since you opened it. Reload to see the current version; your changes were not saved.";

export function ProductForm({ id }: { id: number | null }) {
  const [values, setValues] = useState<Values>(EMPTY);
  const [product, setProduct] = useState<Product | null>(null);
  const [etag, setEtag] = useState<string | null>(null);
  const [categories, setCategories] = useState<Category[]>([]);
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [problem, setProblem] = useState<unknown>(null);
  const [conflict, setConflict] = useState(false);
  const [message, setMessage] = useState<string | null>(takeFlash);
  const [busy, setBusy] = useState(false);
  const [overwrite, setOverwrite] = useState(false);
  const [confirmArchive, setConfirmArchive] = useState(false);
  const form = useRef<HTMLFormElement>(null);

  async function load() {
    if (id === null) return;
    setProblem(null);
    setConflict(false);
    setErrors({});
    try {
      const { body, etag: tag } = await client.tagged<Product>("GET", `/products/${id}`);
      setProduct(body);
      setEtag(tag);
      setValues(valuesOf(body));
    } catch (caught) {
      setProblem(caught);
    }
  }

  useEffect(() => {
    loadCategories().then(setCategories, () => setCategories([]));
    void load();
  }, [id]);
  useEffect(() => {
    if (!values.category && categories[0] && id === null) setValues((current) => ({ ...current, category: categories[0]?.slug ?? "" }));
  }, [categories]);
  useEffect(() => {
    // After a refused save, take the keyboard to the first field to fix.
    if (Object.keys(errors).length) form.current?.querySelector<HTMLElement>("[aria-invalid=true]")?.focus();
  }, [errors]);

  const set = (name: keyof Values) => (event: Event) =>
    setValues({ ...values, [name]: (event.currentTarget as HTMLInputElement).value });

  function fail(caught: unknown) {
    if (caught instanceof ApiError && caught.status === 412) {
      setConflict(true);
    } else if (caught instanceof ApiError && caught.status === 422) {
      setErrors(caught.fieldErrors());
      setProblem(caught);
    } else if (caught instanceof ApiError && caught.code === "CONFLICT") {
      setErrors({ slug: caught.message }); // the one unique field of a product
      setProblem(caught);
    } else {
      setProblem(caught);
    }
  }

  async function save(event: Event) {
    event.preventDefault();
    setBusy(true);
    setErrors({});
    setProblem(null);
    setMessage(null);
    try {
      if (id === null) {
        const { body } = await client.tagged<Product>("POST", "/products", { body: bodyOf(values, null) });
        setFlash(`Created “${body.title}”.`);
        navigate(href(`/products/${body.id}`));
        return;
      }
      const headers: Record<string, string> = etag ? { "If-Match": etag } : {};
      const saved = await client.tagged<Product>("PATCH", `/products/${id}`, { body: bodyOf(values, product), headers });
      setProduct(saved.body);
      setEtag(saved.etag);
      setValues(valuesOf(saved.body));
      setMessage(`Saved at ${formatMoment(saved.body.updated_at)}.`);
    } catch (caught) {
      fail(caught);
    } finally {
      setBusy(false);
    }
  }

  async function writeWithAi() {
    if (id === null) return;
    setBusy(true);
    setProblem(null);
    setMessage(null);
    try {
      const result = await client.json<Generated>("POST", `/products/${id}/generate`, {
        body: { fields: ["description", "seo_keywords"], overwrite },
      });
      // The API saved the content: take it, and the product's new ETag for the next save.
      const fresh = await client.tagged<Product>("GET", `/products/${id}`);
      setProduct(fresh.body);
      setEtag(fresh.etag);
      setValues({ ...values, description: result.description, seo_keywords: result.seo_keywords.join("\n") });
      setMessage(
        result.provider
          ? `Written with AI by ${result.provider === "local" ? "the offline generator (local)" : result.provider}, and saved.`
          : "Nothing was written: both fields already have text. Tick “Replace existing text” to rewrite them.",
      );
    } catch (caught) {
      fail(caught);
    } finally {
      setBusy(false);
    }
  }

  async function archive() {
    if (id === null) return;
    setBusy(true);
    try {
      await client.send("DELETE", `/products/${id}`, { headers: etag ? { "If-Match": etag } : {} });
      setFlash(`Archived “${product?.title ?? `product ${id}`}”.`);
      navigate(href("/products"));
    } catch (caught) {
      fail(caught);
      setBusy(false);
    }
  }

  const attributes = (name: string, hint?: string) => fieldAttributes(`product-${name}`, errors[name], hint);
  const unplaced = Object.entries(errors).filter(([field]) => !(field in EMPTY));

  return (
    <>
      <div class="page-head">
        <h1>{id === null ? "New product" : product ? `Edit “${product.title}”` : "Edit product"}</h1>
        <a href={href("/products")} onClick={onLinkClick}>
          Back to products
        </a>
      </div>
      <DoneNotice message={message} />
      {conflict && (
        <div class="notice error" role="alert">
          <p>{CONFLICT_MESSAGE}</p>
          <button type="button" class="secondary" onClick={() => void load()}>
            Reload
          </button>
        </div>
      )}
      {problem !== null && Object.keys(errors).length > 0 ? (
        <div class="notice error" role="alert">
          <p>
            Not saved: {Object.keys(errors).length === 1 ? "one field needs" : `${Object.keys(errors).length} fields need`} fixing, marked
            below.
          </p>
        </div>
      ) : (
        problem !== null && <ErrorNotice error={problem} action="Not saved" />
      )}
      {unplaced.map(([field, text]) => (
        <p key={field} class="field-error">
          {field}: {text}
        </p>
      ))}
      <form ref={form} class="card product-form" noValidate onSubmit={save} aria-label={id === null ? "New product" : "Edit product"}>
        <div class="form-grid">
          <div class="field wide">
            <label for="product-title">Title</label>
            <input {...attributes("title")} value={values.title} onInput={set("title")} maxLength={200} required />
            <FieldError id="product-title" error={errors.title} />
          </div>
          <div class="field">
            <label for="product-slug">Slug</label>
            <input {...attributes("slug", "product-slug-hint")} value={values.slug} onInput={set("slug")} />
            <p id="product-slug-hint" class="hint">
              Leave empty to derive it from the title.
            </p>
            <FieldError id="product-slug" error={errors.slug} />
          </div>
          <div class="field">
            <label for="product-category">Category</label>
            <select {...attributes("category")} value={values.category} onChange={set("category")}>
              {categories.map((item) => (
                <option key={item.id} value={item.slug}>
                  {item.name}
                </option>
              ))}
            </select>
            <FieldError id="product-category" error={errors.category} />
          </div>
          <div class="field">
            <label for="product-price">Price</label>
            <input {...attributes("price")} inputMode="decimal" value={values.price} onInput={set("price")} required />
            <FieldError id="product-price" error={errors.price} />
          </div>
          <div class="field">
            <label for="product-stock">Stock</label>
            <input {...attributes("stock")} type="number" min={0} value={values.stock} onInput={set("stock")} />
            <FieldError id="product-stock" error={errors.stock} />
          </div>
          <div class="field">
            <label for="product-low_stock_threshold">Low-stock threshold</label>
            <input
              {...attributes("low_stock_threshold")}
              type="number"
              min={0}
              value={values.low_stock_threshold}
              onInput={set("low_stock_threshold")}
            />
            <FieldError id="product-low_stock_threshold" error={errors.low_stock_threshold} />
          </div>
          <div class="field wide">
            <label for="product-description">Description</label>
            <textarea {...attributes("description")} rows={6} value={values.description} onInput={set("description")} />
            <FieldError id="product-description" error={errors.description} />
          </div>
          <div class="field wide">
            <label for="product-seo_keywords">SEO keywords (one per line)</label>
            <textarea {...attributes("seo_keywords")} rows={4} value={values.seo_keywords} onInput={set("seo_keywords")} />
            <FieldError id="product-seo_keywords" error={errors.seo_keywords} />
          </div>
        </div>
        <div class="actions">
          <button type="submit" disabled={busy}>
            {id === null ? "Create product" : "Save changes"}
          </button>
          {id !== null && (
            <>
              <button type="button" class="secondary" disabled={busy} onClick={() => void writeWithAi()}>
                Write with AI
              </button>
              <label class="inline">
                <input type="checkbox" checked={overwrite} onChange={(event) => setOverwrite(event.currentTarget.checked)} />
                Replace existing text
              </label>
            </>
          )}
        </div>
      </form>
      {id !== null && product && (
        <section class="card danger-zone" aria-labelledby="archive-title">
          <h2 id="archive-title">Archive</h2>
          <p class="muted">An archived product leaves the shop's listings; orders that name it keep it.</p>
          {confirmArchive ? (
            <div class="actions">
              <button type="button" class="danger-button" disabled={busy} onClick={() => void archive()}>
                Yes, archive “{product.title}”
              </button>
              <button type="button" class="secondary" onClick={() => setConfirmArchive(false)}>
                Keep it
              </button>
            </div>
          ) : (
            <button type="button" class="secondary" onClick={() => setConfirmArchive(true)}>
              Archive product
            </button>
          )}
        </section>
      )}
    </>
  );
}
