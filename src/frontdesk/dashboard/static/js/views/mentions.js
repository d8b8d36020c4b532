// "@name" in a private note: the named agent hears of it on its own member topic
// (/<pid>/project_users/<id>, action "mention") and sees a toast with a link to the
// conversation; while the tab is hidden, also a notification through notify(), so the
// agent's choices (desktop, sound, title count) apply to mentions too.

import { get } from "../api.js";
import { h } from "../dom.js";
import { notify } from "./notifications.js";

const SHOWN_MS = 12000;

function toastArea() {
  let area = document.querySelector(".mention-toasts");
  if (!area) {
    area = h("div", { class: "mention-toasts", "aria-live": "polite" });
    document.body.append(area);
  }
  return area;
}

function conversationPath(ctx, requestId) {
  return `/dashboard/${ctx.pid}/conversations/${encodeURIComponent(requestId)}`;
}

export function showMention(ctx, payload) {
  const by = (payload.by && payload.by.fullName) || "An agent";
  const text = (payload.note && payload.note.text) || "";
  const toast = h("div", { class: "mention-toast", role: "status" },
    h("strong", {}, `${by} mentioned you in a private note`),
    h("p", { class: "mention-text" }, text),
    h("div", { class: "row" },
      h("a", { href: conversationPath(ctx, payload.request_id), "data-link": true, class: "btn btn-small btn-primary",
        onClick: () => toast.remove() }, "Open conversation"),
      h("button", { class: "btn btn-small btn-ghost", type: "button", onClick: () => toast.remove() }, "Dismiss")));
  toastArea().append(toast);
  setTimeout(() => toast.remove(), SHOWN_MS);
  notify(`${by} mentioned you`, text,
    { tag: payload.note && payload.note._id, url: conversationPath(ctx, payload.request_id) });
}

// Listens for the signed-in agent's mentions while the project is open; returns the stop function.
export function watchMentions(ctx) {
  let stop = () => {};
  let stopped = false;
  get(`/${ctx.pid}/project_users/users/${ctx.me._id}`).then(([member]) => {
    if (stopped || !member) return;
    stop = ctx.live.subscribe(`/${ctx.pid}/project_users/${member._id}`, (payload, action) => {
      if (action === "mention") showMention(ctx, payload);
    });
  }).catch(() => {});
  return () => { stopped = true; stop(); };
}
