// One contact: identity with the shield, fields verified or self-reported, senderAuthInfo,
// conversations, sessions and merges, editing of self-reported fields, export and erasure.

import { ApiError, del, get, put } from "../api.js";
import { h, icon, replace } from "../dom.js";
import { relativeTime } from "../format.js";
import { avatar, fieldList, senderAuthInfoSection, sourceOf } from "../identity.js";
import { STATUS_LABELS, statusClass } from "../status.js";
import { contactFilesCard } from "./attachments.js";
import { exportButton, mergesCard, sessionsCard } from "./contact_identity.js";
import { contactRatings, ratingStars } from "./ratings.js";
import { leadTagsCard } from "./tags.js";
import { leadPill } from "./trust.js";

const EDITABLE = [["fullname", "Name", "text"], ["email", "Email", "email"], ["phone", "Phone", "tel"]];

export function contactView(container, ctx, leadId) {
  const state = { lead: null, requests: [] };

  async function load() {
    const [lead, requests] = await Promise.all([
      get(`/${ctx.pid}/leads/${encodeURIComponent(leadId)}`),
      get(`/${ctx.pid}/requests`, { lead: leadId, status: "all", limit: 50 }),
    ]);
    state.lead = lead;
    state.requests = requests.requests;
    ctx.setTitle(lead.fullname || "Contact");
    render();
  }

  function render() {
    const lead = state.lead;
    const name = lead.fullname || "Anonymous visitor";
    replace(container, h("div", { class: "page" },
      h("a", { class: "back-link", href: `/dashboard/${ctx.pid}/contacts`, "data-link": true }, icon("back"), "Contacts"),
      h("header", { class: "contact-header" },
        avatar(lead.fullname, { seed: lead.lead_id, authenticated: lead.isAuthenticated, size: "xl" }),
        h("div", {}, h("h1", { class: "page-title" }, name),
          h("div", { class: "contact-sub" }, leadPill(lead),
            h("span", { class: "muted mono" }, lead.lead_id)))),
      h("div", { class: "contact-grid" },
        h("div", { class: "contact-main" },
          h("section", { class: "card" }, h("h2", { class: "card-title" }, "Profile"),
            h("p", { class: "muted" }, "Verified fields come from the token your backend signed; nobody else can change them. Self-reported ones were typed by the visitor."),
            fieldList(lead), editForm(lead)),
          h("section", { class: "card" }, h("h2", { class: "card-title" }, "Conversations"),
            contactRatings(state.requests), conversations()),
          contactFilesCard(ctx, state.requests)),
        h("div", { class: "contact-side" },
          leadTagsCard(ctx, lead),
          h("section", { class: "card" }, senderAuthInfoSection(lead.attributes && lead.attributes.senderAuthInfo)),
          sessionsCard(ctx, lead, reload),
          mergesCard(ctx, lead, reload),
          ctx.isAdmin ? dangerZone(lead) : null))));
  }

  function reload() {
    load().catch(() => {});
  }

  function conversations() {
    if (state.requests.length === 0) return h("p", { class: "muted" }, "No conversations.");
    return h("ul", { class: "simple-list" }, state.requests.map((request) => h("li", {},
      h("a", { href: `/dashboard/${ctx.pid}/conversations/${encodeURIComponent(request.request_id)}`, "data-link": true, class: "simple-row" },
        h("span", { class: "simple-main" }, request.first_text || "(no text)",
          request.rating_message ? h("q", { class: "rating-message" }, request.rating_message) : null),
        request.rating !== null && request.rating !== undefined ? ratingStars(request.rating) : null,
        h("span", { class: statusClass(request.status) }, STATUS_LABELS[request.status] || String(request.status)),
        h("span", { class: "muted" }, relativeTime(request.updatedAt))))));
  }

  function editForm(lead) {
    // Proven fields (by your token, or an e-mail code) are not the agents' to change.
    const editable = EDITABLE.filter(([field]) => !["token", "email_code"].includes(sourceOf(lead, field)));
    if (editable.length === 0) return null;
    const error = h("p", { class: "form-error", role: "alert", hidden: true });
    const inputs = editable.map(([field, label, type]) => [field, h("input", { type, name: field, value: lead[field] || "",
      "aria-label": label })]);
    const form = h("form", { class: "edit-form", hidden: true, onSubmit: async (event) => {
      event.preventDefault();
      const changes = {};
      for (const [field, input] of inputs) {
        if (input.value.trim() !== (lead[field] || "")) changes[field] = input.value.trim();
      }
      try {
        state.lead = await put(`/${ctx.pid}/leads/${lead._id}`, changes);
        render();
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : "Could not save.";
        error.hidden = false;
      }
    } },
    inputs.map(([field, input]) => h("label", { class: "form-field" },
      h("span", {}, EDITABLE.find(([f]) => f === field)[1]), input)),
    error,
    h("div", { class: "form-actions" },
      h("button", { class: "btn btn-primary", type: "submit" }, "Save"),
      h("button", { class: "btn btn-ghost", type: "button", onClick: () => { form.hidden = true; open.hidden = false; } }, "Cancel")));
    const open = h("button", { class: "btn btn-small", type: "button", onClick: () => { form.hidden = false; open.hidden = true; } },
      "Edit self-reported fields");
    return h("div", { class: "edit-area" }, open, form);
  }

  function dangerZone(lead) {
    const count = state.requests.length;
    const dialog = h("dialog", { class: "dialog" },
      h("h2", {}, "Delete this contact?"),
      h("p", {}, `This erases the contact and ${count} conversation${count === 1 ? "" : "s"} with every message. It cannot be undone.`),
      h("form", { method: "dialog", class: "form-actions" },
        h("button", { class: "btn", value: "cancel" }, "Cancel"),
        h("button", { class: "btn btn-danger", value: "delete", type: "button", onClick: async () => {
          await del(`/${ctx.pid}/leads/${lead._id}`);
          dialog.close();
          ctx.navigate(`/dashboard/${ctx.pid}/contacts`);
        } }, "Delete contact and conversations")));
    return h("section", { class: "card card-danger" },
      h("h2", { class: "card-title" }, "Data of this person"),
      h("p", { class: "muted" }, "Download everything frontdesk holds about them, for example on a data-access request."),
      exportButton(ctx, lead),
      h("p", { class: "muted" }, "Remove everything frontdesk holds about this person, for example on a data-erasure request."),
      h("button", { class: "btn btn-danger", type: "button", onClick: () => dialog.showModal() }, "Delete contact…"),
      dialog);
  }

  load().catch((failure) => {
    replace(container, h("div", { class: "page" }, h("p", {}, failure.status === 404
      ? "This contact does not exist (it may have been erased)." : failure.message)));
  });
  return {};
}
