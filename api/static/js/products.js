// Products by name: the catalogue is read once per sign-in, and a code is shown as its product's name.

import { get, session } from "./api.js";

let names = null; // product id -> name

/** Read the catalogue (when the token may); a failure leaves codes shown as they are. */
export async function loadProducts() {
  if (names || !session.may("products:read")) return;
  try {
    const body = await get("/products");
    names = new Map(body.items.map((product) => [product.id, product.name ?? product.id]));
  } catch {
    names = new Map();
  }
}

/** The product's name; the code only for a product the catalogue does not know. */
export function productName(code, name = null) {
  if (name) return name;
  return names?.get(code) ?? code ?? "";
}
