// The identity side of one contact: its live widget sessions (end one, or log the person out
// everywhere), the anonymous visitors merged into it (admins can undo a merge), and the export
// of everything stored about it.

import { ApiError, del, get, post } from "../api.js";
import { h } from "../dom.js";
import { ago, dateTime, plural } from "../format.js";

export function sessionsCard(ctx, lead, onChange) {
  const card = h("section", { class: "card", "aria-label": "Sessions" },
    h("h2", { class: "card-title" }, "Widget sessions"),
    h("p", { class: "muted" }, "Where this person is signed in to the chat widget now."));
  const body = h("div", {}, h("p", { class: "muted" }, "Loading…"));
  card.append(body);

  async function revoke(path) {
    try {
      await del(path);
      await load();
      onChange();
    } catch (failure) {
      body.prepend(h("p", { class: "notice notice-error", role: "alert" },
        failure instanceof ApiError ? failure.message : "Could not end the session."));
    }
  }

  async function load() {
    const sessions = await get(`/${ctx.pid}/leads/${encodeURIComponent(lead.lead_id)}/sessions`);
    body.replaceChildren(sessions.length === 0
      ? h("p", { class: "muted session-none" }, "No live session.")
      : h("ul", { class: "identity-list sessions" }, sessions.map((s) => h("li", { class: "simple-row session-row", dataset: { jti: s.jti } },
        h("span", { class: "simple-main" }, s.isAuthenticated ? "Verified" : "Anonymous",
          s.kid ? h("span", { class: "muted mono" }, ` · key ${s.kid}`) : null),
        h("span", { class: "muted", title: `Expires ${dateTime(s.expiresAt)}` }, `signed in ${ago(s.issuedAt)}`),
        ctx.isAdmin ? h("button", { class: "btn btn-small btn-ghost", type: "button",
          onClick: () => revoke(`/${ctx.pid}/leads/${encodeURIComponent(lead.lead_id)}/sessions/${encodeURIComponent(s.jti)}`) },
        "End") : null))));
    if (ctx.isAdmin && sessions.length > 0) {
      body.append(h("button", { class: "btn btn-danger btn-small", type: "button",
        onClick: () => revoke(`/${ctx.pid}/leads/${encodeURIComponent(lead.lead_id)}/sessions`) },
      `Log out everywhere (${plural(sessions.length, "session")})`));
    }
  }

  load().catch(() => body.replaceChildren(h("p", { class: "muted" }, "Sessions are not available.")));
  return card;
}

export function mergesCard(ctx, lead, onChange) {
  const card = h("section", { class: "card", "aria-label": "Merges" },
    h("h2", { class: "card-title" }, "Merged conversations"));
  const body = h("div", {});
  card.append(body);

  async function revert(merge) {
    try {
      await post(`/${ctx.pid}/merges/${encodeURIComponent(merge._id)}/revert`);
      onChange();
    } catch (failure) {
      body.prepend(h("p", { class: "notice notice-error", role: "alert" },
        failure instanceof ApiError ? failure.message : "Could not undo the merge."));
    }
  }

  async function load() {
    const merges = (await get(`/${ctx.pid}/leads/${encodeURIComponent(lead.lead_id)}/merges`))
      .filter((m) => m.lead === lead._id);
    if (merges.length === 0) {
      card.hidden = true;
      return;
    }
    body.replaceChildren(
      h("p", { class: "muted" }, "The visitor proved both identities in one browser: its anonymous session and a token from your backend. The moved conversations stay unverified."),
      h("ul", { class: "identity-list merges" }, merges.map((m) => h("li", { class: "simple-row merge-row", dataset: { merge: m._id } },
        h("span", { class: "simple-main" }, m.description,
          h("span", { class: "muted" }, ` · ${plural(m.requests.length, "conversation")}`)),
        m.revertedAt
          ? h("span", { class: "pill pill-anonymous" }, `Undone ${ago(m.revertedAt)}`)
          : m.anonymousErasedAt
            ? h("span", { class: "pill pill-anonymous", title: `The anonymous contact was erased ${ago(m.anonymousErasedAt)}; its conversations stay with this contact, and the merge can no longer be undone.` }, "Anonymous erased")
            : h("span", { class: "muted" }, ago(m.mergedAt)),
        ctx.isAdmin && !m.revertedAt && !m.anonymousErasedAt ? h("button", { class: "btn btn-small btn-ghost", type: "button",
          onClick: () => revert(m) }, "Undo merge") : null))));
  }

  load().catch(() => { card.hidden = true; });
  return card;
}

export function exportButton(ctx, lead) {
  return h("button", { class: "btn btn-small", type: "button", onClick: async () => {
    const data = await get(`/${ctx.pid}/leads/${encodeURIComponent(lead.lead_id)}/export`);
    const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: "application/json" }));
    const link = h("a", { href: url, download: `contact-${lead.lead_id}.json` });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  } }, "Export data (JSON)");
}
