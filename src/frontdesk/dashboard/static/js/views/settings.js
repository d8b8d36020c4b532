// Project settings: visitor authentication (secret, rotation, grace period, policy, signing
// examples), the widget snippet, and departments.

import { ApiError, del, get, post, put } from "../api.js";
import { copyText, h, replace } from "../dom.js";
import { dateTime, duration } from "../format.js";
import { signingExamples } from "./signing_examples.js";
import { tagLibraryCard } from "./tags.js";
import { departmentRules, departmentTierPill, emailCard, hoursCard } from "./hours.js";

const GRACE_CHOICES = [0, 3600, 86400, 7 * 86400, 30 * 86400];

export function settingsView(container, ctx) {
  ctx.setTitle("Settings");
  const state = { project: null, keys: [], departments: [], fresh: null, error: null };

  async function load() {
    const [project, keys, departments] = await Promise.all([
      get(`/projects/${ctx.pid}`), ctx.isAdmin ? get(`/${ctx.pid}/keys`) : [], get(`/${ctx.pid}/departments`),
    ]);
    Object.assign(state, { project, keys, departments });
    render();
  }

  function render() {
    replace(container, h("div", { class: "page settings" },
      h("header", { class: "page-header" }, h("div", {}, h("h1", { class: "page-title" }, "Settings"),
        h("p", { class: "muted" }, state.project.name))),
      ctx.isAdmin ? null : h("p", { class: "notice" }, "Only owners and admins can change these settings."),
      state.error ? h("p", { class: "notice notice-error", role: "alert" }, state.error) : null,
      authCard(), widgetCard(),
      hoursCard(ctx, state.project, { onSaved: (project) => { state.project = project; } }),
      emailCard(ctx, state.project, { onSaved: (project) => { state.project = project; } }),
      departmentsCard(), tagLibraryCard(ctx)));
  }

  function authCard() {
    const settings = state.project.settings || {};
    const allowAnonymous = settings.allow_anonymous !== false;
    const grace = settings.key_grace_period ?? null;
    const active = state.keys.find((k) => k.state === "active");
    const policy = (value, title, text) => h("label", { class: "choice" },
      h("input", { type: "radio", name: "policy", value: String(value), checked: allowAnonymous === value,
        disabled: !ctx.isAdmin, onChange: () => saveSettings({ allow_anonymous: value }) }),
      h("span", {}, h("strong", {}, title), h("span", { class: "muted" }, text)));
    const graceSelect = h("select", { class: "select", name: "grace", disabled: !ctx.isAdmin,
      "aria-label": "Grace period", onChange: (event) => saveSettings({ key_grace_period: Number(event.target.value) }) },
    grace === null ? h("option", { value: "", selected: true }, "Server default") : null,
    [...new Set([...GRACE_CHOICES, ...(grace === null ? [] : [grace])])].sort((a, b) => a - b).map((seconds) =>
      h("option", { value: String(seconds), selected: seconds === grace }, seconds === 0 ? "None (old secret stops at once)" : duration(seconds))));

    return h("section", { class: "card", id: "visitor-auth" },
      h("h2", { class: "card-title" }, "Visitor authentication"),
      h("p", { class: "muted" }, "Your backend signs a short-lived token for a logged-in customer with this project's secret; the widget exchanges it for a session, and agents see a shield on that visitor."),
      h("div", { class: "setting-block" }, h("h3", {}, "Who may chat"),
        policy(true, "Anyone", "Anonymous visitors can chat; logged-in customers are marked authenticated."),
        policy(false, "Authenticated customers only", "The widget refuses anonymous sessions.")),
      h("div", { class: "setting-block" }, h("h3", {}, "Project secret"),
        keysTable(), freshSecret(),
        h("div", { class: "row" },
          ctx.isAdmin ? h("button", { class: "btn btn-primary", type: "button", onClick: confirmRotation },
            active ? "Rotate secret…" : "Generate secret") : null,
          h("label", { class: "inline-field" }, h("span", {}, "Old secrets keep verifying for"), graceSelect))),
      h("div", { class: "setting-block" }, h("h3", {}, "Sign a token on your server"),
        signingExamples(ctx.pid, active ? active.kid : null)));
  }

  function keysTable() {
    if (state.keys.length === 0) return h("p", { class: "muted" }, "No secret yet: generate one to let your backend vouch for customers.");
    return h("table", { class: "table keys-table" },
      h("thead", {}, h("tr", {}, h("th", {}, "Key id"), h("th", {}, "State"), h("th", {}, "Created"), h("th", {}, "Verifies until"))),
      h("tbody", {}, state.keys.map((key) => h("tr", { dataset: { kid: key.kid, state: key.state } },
        h("td", { class: "mono" }, key.kid),
        h("td", {}, h("span", { class: `key-state key-${key.state}` }, key.state === "grace" ? "in grace period" : key.state)),
        h("td", {}, dateTime(key.createdAt)),
        h("td", {}, key.state === "active" ? "until rotated" : dateTime(key.verifyUntil))))));
  }

  function freshSecret() {
    if (!state.fresh) return null;
    const copy = h("button", { class: "btn btn-small", type: "button", onClick: () => copyText(state.fresh.jwtSecret, copy) }, "Copy");
    return h("div", { class: "secret-box", role: "status" },
      h("p", {}, h("strong", {}, "New secret for key "), h("span", { class: "mono" }, state.fresh.kid),
        h("strong", {}, ". Copy it now: it will not be shown again.")),
      h("div", { class: "secret-row" }, h("code", { class: "secret", dataset: { secret: "" } }, state.fresh.jwtSecret), copy));
  }

  function confirmRotation() {
    const active = state.keys.find((k) => k.state === "active");
    if (!active) {
      rotate();
      return;
    }
    const grace = state.project.settings && state.project.settings.key_grace_period;
    const dialog = h("dialog", { class: "dialog" },
      h("h2", {}, "Rotate the project secret?"),
      h("p", {}, "A new secret signs from now on. The current one keeps verifying tokens ",
        grace === 0 ? "for no time at all, so customers must get tokens signed with the new one at once."
          : `for ${grace ? duration(grace) : "the server's default grace period"}, so signed-in visitors stay signed in while you deploy the new one.`),
      h("form", { method: "dialog", class: "form-actions" },
        h("button", { class: "btn", value: "cancel" }, "Cancel"),
        h("button", { class: "btn btn-primary", type: "button", onClick: () => { dialog.close(); dialog.remove(); rotate(); } }, "Rotate secret")));
    container.append(dialog);
    dialog.showModal();
  }

  async function rotate() {
    state.fresh = await post(`/${ctx.pid}/keys/generate`);
    state.keys = state.fresh.keys || (await get(`/${ctx.pid}/keys`));
    render();
  }

  async function saveSettings(changes) {
    try {
      state.project = await put(`/projects/${ctx.pid}`, { settings: changes });
      state.error = null;
    } catch (failure) {
      state.error = failure instanceof ApiError ? failure.message : "Could not save the setting.";
    }
    render();
  }

  function widgetCard() {
    const snippet = `<script>window.frontdeskSettings={projectid:"${ctx.pid}"}</script>\n<script src="${window.location.origin}/widget/frontdesk.js"></script>`;
    const copy = h("button", { class: "btn btn-small", type: "button", onClick: () => copyText(snippet, copy) }, "Copy");
    return h("section", { class: "card", id: "widget" },
      h("h2", { class: "card-title" }, "Install the widget"),
      h("p", { class: "muted" }, "Paste this before the closing </body> tag of every page where visitors may chat."),
      h("div", { class: "code-block" }, h("pre", {}, h("code", { class: "widget-snippet" }, snippet)), copy));
  }

  function departmentsCard() {
    const name = h("input", { type: "text", placeholder: "e.g. Billing", required: true, maxlength: 100, "aria-label": "Department name" });
    return h("section", { class: "card", id: "departments" },
      h("h2", { class: "card-title" }, "Departments"),
      h("p", { class: "muted" }, "Route conversations to groups of agents."),
      h("ul", { class: "simple-list" }, state.departments.map((d) => h("li", { class: "simple-row" },
        h("span", { class: "simple-main" }, d.name), d.default ? h("span", { class: "pill" }, "default") : null,
        h("span", { class: "muted" }, `routing: ${d.routing || "assigned"}`), departmentTierPill(d),
        departmentRules(ctx, d, { project: () => state.project, onSaved: async () => {
          state.departments = await get(`/${ctx.pid}/departments`);
          render();
        } }),
        ctx.isAdmin && !d.default ? h("button", { class: "btn btn-ghost btn-small", type: "button", onClick: async () => {
          await del(`/${ctx.pid}/departments/${d._id}`);
          state.departments = await get(`/${ctx.pid}/departments`);
          render();
        } }, "Delete") : null))),
      ctx.isAdmin ? h("form", { class: "row", onSubmit: async (event) => {
        event.preventDefault();
        await post(`/${ctx.pid}/departments`, { name: name.value.trim() });
        state.departments = await get(`/${ctx.pid}/departments`);
        render();
      } }, name, h("button", { class: "btn", type: "submit" }, "Add department")) : null);
  }

  load().catch((failure) => replace(container, h("p", { class: "page" }, failure.message)));
  return {};
}
