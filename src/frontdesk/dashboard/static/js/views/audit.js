// The audit log (admins): sign-ins and why they failed, key changes, merges, revocations,
// erasures, and agents' actions (views/audit_agents.js). A burst of failed custom-token
// sign-ins is called out at the top.

import { ApiError, get } from "../api.js";
import { h, replace } from "../dom.js";
import { dateTime } from "../format.js";
import { AGENT_TYPES, agentActionSummary, loadAgentNames } from "./audit_agents.js";

const TYPES = [
  ["", "All events"],
  ["signin.failed", "Failed sign-ins"],
  ["signin.custom", "Sign-ins with your token"],
  ["signin.anonymous", "Anonymous sign-ins"],
  ["key.created", "Keys created"],
  ["key.rotated", "Secret rotations"],
  ["key.retired", "Keys retired"],
  ["policy.changed", "Policy changes"],
  ["merge", "Merges"],
  ["merge.reverted", "Merges undone"],
  ["session.revoked", "Sessions ended"],
  ["lead.erased", "Contacts erased"],
  ["lead.exported", "Contacts exported"],
  ["retention.erased", "Erased by retention"],
  ["note.deleted", "Private notes deleted"],
  ["presence.away", "Made unavailable (left)"],
  ["presence.back", "Made available (returned)"],
  ...AGENT_TYPES,
];
const LABELS = Object.fromEntries(TYPES.filter(([key]) => key));

function summary(event) {
  const details = event.details || {};
  const agentAction = agentActionSummary(event);
  if (agentAction !== null) return agentAction;
  if (event.type === "signin.failed") {
    // Repeats of one refusal from one address are counted on one event.
    const repeats = event.occurrences > 1 ? ` ×${event.occurrences}, last ${dateTime(event.lastAt)}` : "";
    return `refused: ${event.code}${repeats}`;
  }
  if (event.type === "merge") return `merged from anonymous visitor ${details.from}`;
  if (event.type === "policy.changed") return Object.keys(details).join(", ");
  if (event.type === "session.revoked") return (details.sessions || []).length + " session(s)";
  if (details.requests !== undefined && typeof details.requests === "number") return `${details.requests} conversation(s)`;
  return "";
}

export function auditView(container, ctx) {
  const state = { type: "", events: [], next: null };
  ctx.setTitle("Audit log");
  if (!ctx.isAdmin) {
    replace(container, h("div", { class: "page" }, h("h1", { class: "page-title" }, "Audit log"),
      h("p", { class: "muted" }, "Only admins and owners can read the audit log.")));
    return {};
  }
  const burst = h("p", { class: "notice notice-error audit-burst", role: "alert", hidden: true },
    "Many failed sign-ins with customer tokens in the last minutes: someone may be forging or replaying tokens. Check the codes below.");
  const rows = h("tbody", {});
  const more = h("button", { class: "btn btn-small", type: "button", hidden: true, onClick: () => load(true) }, "Older events");
  const filter = h("select", { class: "select", "aria-label": "Event type", onChange: (event) => {
    state.type = event.target.value;
    load(false);
  } }, TYPES.map(([key, label]) => h("option", { value: key }, label)));

  async function load(append) {
    try {
      const page = await get(`/${ctx.pid}/audit`, { type: state.type, limit: 50, before: append ? state.next : "" });
      state.events = append ? state.events.concat(page.events) : page.events;
      state.next = page.next;
      burst.hidden = !page.suspiciousBurst;
      more.hidden = !page.next;
      rows.replaceChildren(...state.events.map((e) => h("tr", { class: "audit-row", dataset: { type: e.type } },
        h("td", {}, dateTime(e.at)),
        h("td", {}, LABELS[e.type] || e.type,
          e.flags.includes("suspicious_burst") ? h("span", { class: "pill pill-danger", title: "part of a burst of failures" }, " burst") : null),
        h("td", { class: "mono", title: e.type === "signin.failed" ? "claimed by the refused token: unverified" : null },
          e.type === "signin.failed" && e.subject ? `${e.subject}?` : e.subject || "—"),
        h("td", { class: "mono" }, e.kid || ""),
        h("td", {}, summary(e)))));
    } catch (failure) {
      rows.replaceChildren(h("tr", {}, h("td", { colspan: 5 },
        failure instanceof ApiError ? failure.message : "Could not load the audit log.")));
    }
  }

  replace(container, h("div", { class: "page" },
    h("h1", { class: "page-title" }, "Audit log"),
    h("p", { class: "muted" }, "Identity events and agents' actions in this project, newest first."),
    burst,
    h("div", { class: "toolbar" }, filter),
    h("section", { class: "card table-card" }, h("table", { class: "table audit" },
      h("thead", {}, h("tr", {}, ["When", "Event", "Who", "Key", "Details"].map((t) => h("th", {}, t)))),
      rows)),
    more));
  loadAgentNames(ctx.pid).finally(() => load(false));
  return {};
}
