// Logging a contact with a customer (POST /customers/{id}/interactions), from the side panel, a node of the
// graph (right-click) or an overdue follow-up of the portfolio. Logging the contact keeps an open follow-up:
// the portfolio stops listing it once a later contact reached the customer.

import { enc, post, session } from "./api.js";
import { h } from "./dom.js";
import { channelName, outcomeName, t } from "./i18n.js";
import { report } from "./status.js";

const CHANNELS = ["phone", "sms", "visit", "branch", "wechat", "email", "app"];
const OUTCOMES = ["interested", "not_interested", "purchased", "follow_up", "complaint", "no_contact"];

export const mayLogContacts = () => session.may("interactions:write");

function choice(name, values, label, chosen, blank = false) {
  const select = h(
    "select",
    { name, "aria-label": t(label) },
    blank ? h("option", { value: "" }, "–") : null,
    values.map((value) => h("option", { value, selected: value === chosen }, label === "contact.channel" ? channelName(value) : outcomeName(value))),
  );
  return h("label", {}, h("span", {}, t(label)), select);
}

/**
 * A form that logs a contact with ``customerId``; ``onLogged(interaction)`` runs once the server stored it.
 * ``channel`` preselects how the contact was made (the channel a follow-up was promised on).
 */
export function contactForm(customerId, { onLogged, channel = "phone" } = {}) {
  const done = h("p", { class: "muted contact-done", role: "status" });
  const form = h(
    "form",
    { class: "contact-form", dataset: { customerId } },
    choice("channel", CHANNELS, "contact.channel", channel),
    choice("outcome", OUTCOMES, "contact.outcome", "interested", true),
    h("label", {}, h("span", {}, t("contact.follow_up")), h("input", { type: "date", name: "follow_up" })),
    h("textarea", { name: "summary", required: true, maxlength: 2000, rows: 2, placeholder: t("contact.summary") }),
    h("button", { type: "submit" }, t("contact.submit")),
    done,
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const fields = new FormData(form);
    const body = { channel: fields.get("channel"), summary: String(fields.get("summary")).trim() };
    if (fields.get("outcome")) body.outcome = fields.get("outcome");
    if (fields.get("follow_up")) body.follow_up = fields.get("follow_up");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      const logged = await post(`/customers/${enc(customerId)}/interactions`, body);
      form.reset();
      done.textContent = t("contact.logged", { at: logged.at.slice(0, 16).replace("T", " ") });
      form.dataset.logged = logged.id;
      report(null);
      document.dispatchEvent(new CustomEvent("contact-logged", { detail: logged }));
      await onLogged?.(logged);
    } catch (error) {
      report(error);
    } finally {
      button.disabled = false;
    }
  });
  return form;
}
