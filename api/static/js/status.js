// One line at the bottom of the page for errors and progress, worded for the reader, never a stack trace.

import { t } from "./i18n.js";

export function report(error) {
  const line = document.querySelector("#status");
  if (!error) {
    line.textContent = "";
    return;
  }
  console.error(error);
  if (error.status === 403) line.textContent = t("error.forbidden");
  else if (error.status === 404) line.textContent = t("error.not_found");
  else line.textContent = t("error.generic", { message: error.message });
}
