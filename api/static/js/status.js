// One line at the bottom of the page for errors, worded for the reader in the page's language: never a stack
// trace, a library's message or the server's English detail (those go to the console). A success clears it.

import { ApiError, isAborted } from "./api.js";
import { onLanguageChange, t } from "./i18n.js";

let shown = null; // the error on the line, to reword it when the language changes

function messageKey(error) {
  if (!(error instanceof ApiError)) return error instanceof TypeError ? "error.network" : "error.generic";
  if (error.status === 401) return "error.signed_out";
  if (error.status === 403) return "error.forbidden";
  if (error.status === 404) return "error.not_found";
  if (error.status === 429) return "error.busy";
  if (error.status === 400 || error.status === 422) return "error.invalid";
  return error.status >= 500 ? "error.server" : "error.generic";
}

/** Show ``error`` on the status line, or clear it (``null``). An aborted (superseded) action is no error. */
export function report(error) {
  if (isAborted(error)) return;
  shown = error ?? null;
  const line = document.querySelector("#status");
  line.classList.toggle("error", Boolean(shown));
  if (!shown) {
    line.textContent = "";
    return;
  }
  console.error(error);
  line.textContent = t(messageKey(error));
}

onLanguageChange(() => {
  if (shown) document.querySelector("#status").textContent = t(messageKey(shown));
});
