// The page's only way to the server: /api/v1 with the signed-in bearer token (kept in sessionStorage).

const TOKEN_KEY = "crm-graph.token";
const PREFIX = "/api/v1";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || problem?.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export const session = {
  get token() {
    return sessionStorage.getItem(TOKEN_KEY);
  },
  set token(value) {
    if (value) sessionStorage.setItem(TOKEN_KEY, value);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  me: null,
  may(permission) {
    return Boolean(this.me?.permissions.includes(permission));
  },
};

export function url(path, params = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    for (const item of Array.isArray(value) ? value : [value]) query.append(name, item);
  }
  const text = query.toString();
  return `${PREFIX}${path}${text ? `?${text}` : ""}`;
}

/**
 * One action in flight per view: ``begin()`` aborts the view's previous action (its requests fail with an
 * AbortError, which nobody reports) and returns the new action's signal; ``signal`` is the current one.
 */
export class LatestAction {
  #controller = new AbortController();

  begin() {
    this.#controller.abort();
    this.#controller = new AbortController();
    return this.#controller.signal;
  }

  get signal() {
    return this.#controller.signal;
  }
}

export function isAborted(error) {
  return error?.name === "AbortError";
}

async function send(path, params, accept, signal, body = undefined) {
  const headers = { Authorization: `Bearer ${session.token}`, Accept: accept };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url(path, params), {
    method: body === undefined ? "GET" : "POST",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  });
  if (!response.ok) {
    let problem = null;
    try {
      problem = await response.json();
    } catch {
      problem = null;
    }
    throw new ApiError(response.status, problem);
  }
  return response;
}

/** GET a JSON body; with ``signal``, an aborted action's answer is never returned (it throws an AbortError). */
export async function get(path, params = {}, signal = undefined) {
  const body = await (await send(path, params, "application/json", signal)).json();
  signal?.throwIfAborted();
  return body;
}

/** POST a JSON body and return the JSON answer. */
export async function post(path, body) {
  return (await send(path, {}, "application/json", undefined, body)).json();
}

/** A list read page by page through the API's cursor: ``more()`` appends the next page to ``items``. */
export class PagedList {
  constructor(path, params = {}) {
    this.path = path;
    this.params = params;
    this.items = [];
    this.last = null; // the last page's whole body (totals beside the items)
    this.cursor = undefined; // null once the last page is read
  }

  get complete() {
    return this.cursor === null;
  }

  async more() {
    if (this.complete) return [];
    const body = await get(this.path, { ...this.params, cursor: this.cursor });
    this.items.push(...body.items);
    this.last = body;
    this.cursor = body.next_cursor ?? null;
    return body.items;
  }
}

export async function getCsv(path, params = {}) {
  const response = await send(path, { ...params, format: "csv" }, "text/csv");
  const disposition = response.headers.get("Content-Disposition") || "";
  const filename = /filename="([^"]+)"/.exec(disposition)?.[1] || "export.csv";
  return { blob: await response.blob(), filename };
}

export const enc = encodeURIComponent;
