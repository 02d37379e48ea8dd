// Finding a customer. Suggestions come while typing: a request leaves only after a pause in the typing, and a
// newer keystroke cancels the one still in flight. Enter asks for the same list as a view action (cancelling a
// network still loading) and draws the customer at once when only one matches. The list says how many match in
// all and reads further pages on demand; each result shows what the role may see of it (tier, city, decade of
// birth, the phone's last four digits, the id), so that two masked names stay apart.

import { get, isAborted, LatestAction } from "./api.js";
import { $, clear, h } from "./dom.js";
import { cityName, industryName, onLanguageChange, t, tierName } from "./i18n.js";
import { report } from "./status.js";

const PAUSE_MS = 250; // typing pause before suggestions are asked for
const PAGE_SIZE = 20;

/** What tells this customer apart, among what the caller may see of it. */
export function distinguishing(customer) {
  const decade = customer.birth_year ? t("search.born", { decade: String(Math.floor(customer.birth_year / 10) * 10).slice(-2) }) : null;
  const phone = /(\d{4})$/.exec(customer.phone_masked ?? "")?.[1];
  return [
    t(`kind.${customer.kind}`),
    customer.tier ? tierName(customer.tier) : null,
    cityName(customer.city),
    decade,
    customer.industry && industryName(customer.industry),
    phone ? t("search.phone", { last: phone }) : null,
    customer.id,
  ].filter(Boolean);
}

export class CustomerSearch {
  /**
   * ``requests`` is the view's one action in flight; ``draw(customer, signal)`` draws a chosen customer's
   * network as the action of ``signal``.
   */
  constructor({ requests, draw }) {
    this.requests = requests;
    this.draw = draw;
    this.suggestions = new LatestAction(); // a newer keystroke cancels the older suggestion request
    this.timer = null;
    this.result = null; // {query, items, total, namesSearched, cursor}
    const input = $("#search-q");
    input.addEventListener("input", () => this.#typed(input.value.trim()));
    $("#search-form").addEventListener("submit", (event) => {
      event.preventDefault();
      this.#submit(input.value.trim());
    });
    onLanguageChange(() => this.render());
  }

  #typed(query) {
    clearTimeout(this.timer);
    if (!query) {
      this.suggestions.begin();
      this.forget(false);
      return;
    }
    this.timer = setTimeout(() => this.#find(query, this.suggestions.begin()).catch(report), PAUSE_MS);
  }

  async #submit(query) {
    clearTimeout(this.timer);
    this.suggestions.begin(); // the list Enter asks for replaces any suggestion still coming
    if (!query) return;
    const signal = this.requests.begin();
    try {
      await this.#find(query, signal);
      if (this.result.items.length === 1) await this.draw(this.result.items[0], signal);
    } catch (error) {
      report(error);
    }
  }

  /** The first page of matches for ``query``, shown unless a newer search began meanwhile. */
  async #find(query, signal) {
    try {
      const page = await get("/customers", { q: query, page_size: PAGE_SIZE }, signal);
      this.result = { query, items: page.items, total: page.total, namesSearched: page.names_searched, cursor: page.next_cursor };
      this.render();
      report(null);
    } catch (error) {
      if (!isAborted(error)) throw error;
    }
  }

  async #more() {
    const shown = this.result;
    const page = await get("/customers", { q: shown.query, page_size: PAGE_SIZE, cursor: shown.cursor }, this.suggestions.signal);
    if (this.result !== shown) return; // a newer search replaced the list meanwhile
    shown.items.push(...page.items);
    shown.cursor = page.next_cursor;
    this.render();
  }

  /** Empty the list, and the box too unless ``clearText`` is false: what is shown now is not what was searched. */
  forget(clearText = true) {
    if (clearText) $("#search-q").value = "";
    this.result = null;
    this.render();
  }

  render() {
    const list = clear($("#search-results"));
    const found = this.result;
    list.dataset.query = found?.query ?? "";
    if (!found) return;
    if (!found.items.length) {
      list.append(h("li", { class: "search-total" }, t("search.none")));
      return;
    }
    const note = found.namesSearched ? "" : ` · ${t("search.names_masked")}`;
    list.append(h("li", { class: "search-total", dataset: { total: found.total } }, t("search.total", { shown: found.items.length, total: found.total }), note));
    for (const customer of found.items) {
      const button = h(
        "button",
        { type: "button", dataset: { customerId: customer.id } },
        h("strong", {}, customer.name ?? customer.id),
        h("small", {}, distinguishing(customer).join(" · ")),
      );
      button.addEventListener("click", () => {
        const signal = this.requests.begin();
        this.draw(customer, signal).catch(report);
      });
      list.append(h("li", {}, button));
    }
    if (found.cursor) {
      list.append(h("li", {}, h("button", { type: "button", class: "more", id: "search-more", onclick: () => this.#more().catch(report) }, t("list.more"))));
    }
  }
}
