// Products by name: the catalogue is read once per sign-in, and a code is shown as its product's name.
//
// A name is the bank's own (what the contract and the customer call the product), so it is never translated;
// the English view glosses a Chinese name with its kind of product from the catalogue: "定期存款 (Deposit)".

import { get, session } from "./api.js";
import { categoryName, lang } from "./i18n.js";

const CJK = /[\u3400-\u9fff]/;
let catalogue = null; // product id -> { name, category }

/** Read the catalogue (when the token may); a failure leaves codes shown as they are. */
export async function loadProducts() {
  if (catalogue || !session.may("products:read")) return;
  try {
    const body = await get("/products");
    catalogue = new Map(body.items.map((product) => [product.id, product]));
  } catch {
    catalogue = new Map();
  }
}

/** The product's name (the code only for a product the catalogue does not know), glossed in the English view. */
export function productName(code, name = null) {
  const known = catalogue?.get(code);
  const shown = name ?? known?.name ?? code ?? "";
  return lang === "en" && known?.category && CJK.test(shown) ? `${shown} (${categoryName(known.category)})` : shown;
}
