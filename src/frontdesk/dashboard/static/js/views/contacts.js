// Contacts: everyone who ever wrote, filterable by verified / anonymous, searchable.

import { get } from "../api.js";
import { debounce, h, icon, replace } from "../dom.js";
import { relativeTime } from "../format.js";
import { avatar, sourceBadge, sourceOf } from "../identity.js";
import { leadPill } from "./trust.js";

const FILTERS = [["all", "Everyone", undefined], ["verified", "Verified", "true"],
  ["anonymous", "Anonymous", "false"]];
const PAGE = 40;

export function contactsView(container, ctx) {
  ctx.setTitle("Contacts");
  const state = { filter: FILTERS[0], text: "", page: 0, leads: [], count: 0, capped: false, loads: 0 };
  const rows = h("tbody", {});
  const summary = h("p", { class: "muted" });
  const more = h("button", { class: "btn", type: "button", hidden: true,
    onClick: () => { state.page += 1; load(true); } }, "Load more");
  const filterButtons = FILTERS.map((filter) => h("button", { type: "button", class: "segment",
    dataset: { filter: filter[0] }, onClick: () => { state.filter = filter; state.page = 0; load(false); } }, filter[1]));

  replace(container, h("div", { class: "page" },
    h("header", { class: "page-header" },
      h("div", {}, h("h1", { class: "page-title" }, "Contacts"), summary),
      h("div", { class: "toolbar" },
        h("div", { class: "search" }, icon("search"), h("input", { type: "search", class: "search-input",
          placeholder: "Search name, email or id", "aria-label": "Search contacts",
          onInput: debounce((event) => { state.text = event.target.value.trim(); state.page = 0; load(false); }, 250) })),
        h("div", { class: "segments", role: "group", "aria-label": "Identity filter" }, filterButtons))),
    h("div", { class: "card table-card" },
      h("table", { class: "table contacts-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Contact"), h("th", {}, "Email"), h("th", {}, "Identity"),
          h("th", { class: "hide-narrow" }, "First seen"))),
        rows)),
    h("div", { class: "page-footer" }, more)));

  function renderRow(lead) {
    const href = `/dashboard/${ctx.pid}/contacts/${lead._id}`;
    const emailSource = lead.email ? sourceOf(lead, "email") : null;
    return h("tr", { class: "contact-row", dataset: { leadId: lead._id, authenticated: String(lead.isAuthenticated) },
      onClick: (event) => { if (!event.target.closest("a")) ctx.navigate(href); } },
    h("td", {}, h("a", { class: "contact-cell", href, "data-link": true },
      avatar(lead.fullname, { seed: lead.lead_id, authenticated: lead.isAuthenticated, size: "sm" }),
      h("span", { class: "contact-name" }, lead.fullname || "Anonymous visitor"))),
    h("td", {}, lead.email ? h("span", { class: "email-cell" }, h("span", {}, lead.email), sourceBadge(emailSource)) : h("span", { class: "muted" }, "—")),
    h("td", {}, leadPill(lead)),
    h("td", { class: "hide-narrow muted" }, `${relativeTime(lead.createdAt)} ago`.replace("just now ago", "just now")));
  }

  async function load(appending) {
    const current = ++state.loads;
    const body = await get(`/${ctx.pid}/leads`, { text: state.text, authenticated: state.filter[2],
      page: state.page, limit: PAGE });
    if (current !== state.loads) return; // a newer search answered the agent already
    state.leads = appending ? state.leads.concat(body.leads) : body.leads;
    state.count = body.count;
    state.capped = body.countCapped;
    for (const button of filterButtons) button.classList.toggle("is-selected", button.dataset.filter === state.filter[0]);
    summary.textContent = `${state.count.toLocaleString("en-US")}${state.capped ? "+" : ""} contact${state.count === 1 && !state.capped ? "" : "s"}`;
    if (state.leads.length === 0) {
      replace(rows, h("tr", {}, h("td", { colspan: 4, class: "empty" }, "No contact matches.")));
    } else {
      replace(rows, state.leads.map(renderRow));
    }
    // Past the count cap the count is a floor: a short page, not the count, says it was the last.
    more.hidden = body.leads.length < PAGE || (!state.capped && state.leads.length >= state.count);
  }

  load(false).catch(() => {});
  return {};
}
