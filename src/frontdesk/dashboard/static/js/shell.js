// The frame around every page: brand, project switcher, navigation with the unread count,
// the agent's availability, connection state, sign-out.

import { put } from "./api.js";
import { h, icon } from "./dom.js";
import { itemsOf } from "./realtime.js";
import { notificationsMenu } from "./views/notifications.js";

const NAV = [
  ["conversations", "Conversations", "chat"],
  ["contacts", "Contacts", "contacts"],
  ["settings", "Settings", "settings"],
  ["team", "Team", "team"],
  ["canned", "Canned responses", "chat"],
  ["audit", "Audit log", "info"],
];
const ADMIN_ONLY = new Set(["audit"]);

const CONNECTION_LABELS = {
  live: "Live",
  connecting: "Connecting…",
  polling: "Polling for updates",
};

export function buildShell({ pid, membership, memberships, me, live, navigate, signOut }) {
  const links = new Map();
  const unreadBadge = h("span", { class: "nav-badge", hidden: true, "aria-label": "unread messages" });
  const isAdmin = ["owner", "admin"].includes(membership.role);
  const sections = NAV.filter(([key]) => isAdmin || !ADMIN_ONLY.has(key));
  const nav = h("nav", { class: "nav", "aria-label": "Sections" }, sections.map(([key, label, iconName]) => {
    const link = h("a", { href: `/dashboard/${pid}/${key}`, "data-link": true, class: "nav-link",
      dataset: { section: key } }, icon(iconName), h("span", { class: "nav-label" }, label),
    key === "conversations" ? unreadBadge : null);
    links.set(key, link);
    return link;
  }));

  const switcher = h("select", {
    class: "select project-switcher", "aria-label": "Project",
    onChange: (event) => navigate(`/dashboard/${event.target.value}/conversations`),
  }, memberships.map((m) => h("option", { value: m.id_project._id, selected: m.id_project._id === pid },
    m.id_project.name)));

  const connection = h("span", { class: "connection", title: CONNECTION_LABELS[live.state], dataset: { state: live.state } },
    h("span", { class: "dot" }), h("span", { class: "connection-label" }, CONNECTION_LABELS[live.state]));
  live.addEventListener("state", (event) => {
    connection.dataset.state = event.detail;
    connection.title = CONNECTION_LABELS[event.detail];
    connection.querySelector(".connection-label").textContent = CONNECTION_LABELS[event.detail];
  });

  const available = h("input", { type: "checkbox", checked: membership.user_available !== false,
    onChange: async (event) => {
      const wanted = event.target.checked;
      try {
        await put(`/${pid}/project_users`, { user_available: wanted });
      } catch {
        event.target.checked = !wanted;
      }
    } });

  // The server changes availability too (presence): follow the member's own topic.
  live.subscribe(`/${pid}/project_users/${membership._id}`, (payload) => {
    for (const item of itemsOf(payload)) {
      if (typeof item.user_available === "boolean") available.checked = item.user_available;
    }
  });

  const meName = me ? [me.firstname, me.lastname].filter(Boolean).join(" ") || me.email : "";
  const sidebar = h("aside", { class: "sidebar" },
    h("div", { class: "brand" }, h("img", { src: "/dashboard/static/favicon.svg", alt: "" }),
      h("span", {}, "frontdesk")),
    h("label", { class: "switcher-label" }, h("span", { class: "sr-only" }, "Project"), switcher),
    nav,
    h("div", { class: "sidebar-footer" },
      connection,
      h("label", { class: "availability", title: "Available for chats: new conversations are routed to you" }, available, h("span", { class: "toggle" }),
        h("span", {}, "Available for chats")),
      notificationsMenu(pid),
      h("div", { class: "me" },
        h("div", { class: "me-text" }, h("strong", {}, meName), h("span", {}, me ? me.email : "")),
        h("button", { class: "btn btn-ghost btn-small", type: "button", onClick: signOut }, "Sign out"))));

  const main = h("main", { class: "main", id: "main" });
  return {
    pid, membership, main,
    element: h("div", { class: "layout" }, sidebar, main),
    highlight(section) {
      for (const [key, link] of links) {
        if (key === section) link.setAttribute("aria-current", "page");
        else link.removeAttribute("aria-current");
      }
    },
    setUnread(count) {
      unreadBadge.hidden = count === 0;
      unreadBadge.textContent = count > 99 ? "99+" : String(count);
    },
  };
}
