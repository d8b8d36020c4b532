// Boot and routing. URLs: /dashboard/signin, /dashboard/invitation#<token>,
// /dashboard/<pid>/<section>[/<id>], where section is conversations, contacts, settings, team, canned or audit. The shell (sidebar, project switcher, socket) lives
// as long as the project stays the same; views render into its main area.

import { get, post, session } from "./api.js";
import { h, replace } from "./dom.js";
import { Live } from "./realtime.js";
import { buildShell } from "./shell.js";
import { renderSignin } from "./views/signin.js";
import { renderInvitation } from "./views/invitation.js";
import { renderNoProject } from "./views/welcome.js";
import { conversationsView } from "./views/conversations.js";
import { contactsView } from "./views/contacts.js";
import { contactView } from "./views/contact.js";
import { settingsView } from "./views/settings.js";
import { teamView } from "./views/team.js";
import { auditView } from "./views/audit.js";
import { cannedView } from "./views/canned.js";
import { watchMentions } from "./views/mentions.js";
import { titleWithCount, watchConversations } from "./views/notifications.js";

const root = document.getElementById("app");
const LAST_PROJECT = "frontdesk.dashboard.project";

const state = { shell: null, live: null, view: null, viewKey: null, stopMentions: null, stopNotify: null };

export function navigate(path, { replace: replacing = false } = {}) {
  history[replacing ? "replaceState" : "pushState"]({}, "", path);
  route();
}

function sectionOf(parts) {
  const [section = "conversations", id = null] = parts;
  if (section === "contacts" && id) return { key: "contact", make: contactView, id };
  const views = { conversations: conversationsView, contacts: contactsView, settings: settingsView,
    team: teamView, audit: auditView, canned: cannedView };
  return views[section] ? { key: section, make: views[section], id } : null;
}

async function route() {
  const parts = window.location.pathname.replace(/^\/dashboard\/?/, "").split("/")
    .filter(Boolean).map(decodeURIComponent);
  if (parts[0] === "invitation") {
    teardown();
    renderInvitation(root, { navigate, signOut: signOutHere });
    return;
  }
  if (!session.token) {
    teardown();
    if (parts[0] !== "signin") {
      const next = parts.length ? window.location.pathname : "";
      history.replaceState({}, "", `/dashboard/signin${next ? `?next=${encodeURIComponent(next)}` : ""}`);
    }
    renderSignin(root, { navigate });
    return;
  }
  if (parts[0] === "signin" || parts.length === 0) {
    await openDefaultProject();
    return;
  }
  const [pid, ...rest] = parts;
  const section = sectionOf(rest);
  if (!section) {
    navigate(`/dashboard/${encodeURIComponent(pid)}/conversations`, { replace: true });
    return;
  }
  if (!state.shell || state.shell.pid !== pid) {
    if (!(await openShell(pid))) return;
  }
  showView(section);
}

async function openDefaultProject() {
  const memberships = await get("/projects");
  if (memberships.length === 0) {
    teardown();
    renderNoProject(root, { navigate });
    return;
  }
  const remembered = localStorage.getItem(LAST_PROJECT);
  const chosen = memberships.find((m) => m.id_project._id === remembered) || memberships[0];
  navigate(`/dashboard/${chosen.id_project._id}/conversations`, { replace: true });
}

async function openShell(pid) {
  teardown();
  const memberships = await get("/projects");
  const membership = memberships.find((m) => m.id_project._id === pid);
  if (!membership) {
    navigate("/dashboard/", { replace: true });
    return false;
  }
  localStorage.setItem(LAST_PROJECT, pid);
  state.live = new Live(session.token);
  state.live.start();
  state.shell = buildShell({
    pid, membership, memberships, me: session.user, live: state.live, navigate, signOut,
  });
  state.stopMentions = watchMentions({ pid, me: session.user, live: state.live, navigate });
  replace(root, state.shell.element);
  state.stopNotify = watchConversations({ pid, me: session.user && session.user._id, live: state.live });
  return true;
}

function showView({ key, make, id }) {
  const shell = state.shell;
  shell.highlight(key === "contact" ? "contacts" : key);
  if (state.view && state.viewKey === key && state.view.update) {
    state.view.update(id);
    return;
  }
  if (state.view && state.view.destroy) state.view.destroy();
  const ctx = {
    pid: shell.pid, project: shell.membership.id_project, role: shell.membership.role,
    isAdmin: ["owner", "admin"].includes(shell.membership.role), me: session.user,
    memberId: shell.membership._id,
    live: state.live, navigate, setUnread: shell.setUnread, setTitle,
  };
  const container = h("div", { class: "view", dataset: { view: key } });
  replace(shell.main, container);
  state.viewKey = key;
  state.view = make(container, ctx, id);
}

function setTitle(title) {
  document.title = titleWithCount(title ? `${title} · frontdesk` : "frontdesk");
}

function teardown() {
  if (state.view && state.view.destroy) state.view.destroy();
  if (state.stopMentions) state.stopMentions();
  if (state.stopNotify) state.stopNotify();
  if (state.live) state.live.stop();
  state.view = state.viewKey = state.shell = state.live = state.stopMentions = state.stopNotify = null;
}

async function endSession() {
  try {
    await post("/auth/logout");
  } catch {
    // The session is dropped here either way.
  }
  session.clear();
  teardown();
}

const signOut = () => endSession().then(() => navigate("/dashboard/signin"));
// Signs out but stays on the page, e.g. to accept an invitation with another account.
const signOutHere = () => endSession().then(route);

window.addEventListener("popstate", route);
window.addEventListener("frontdesk:navigate", (event) => navigate(event.detail));
window.addEventListener("frontdesk:signed-out", () => { teardown(); route(); });
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.defaultPrevented || event.button !== 0) return;
  if (event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
  event.preventDefault();
  navigate(link.getAttribute("href"));
});

route().catch((error) => {
  replace(root, h("div", { class: "fatal" }, h("h1", {}, "Something went wrong"),
    h("p", {}, error.message), h("a", { href: "/dashboard/" }, "Try again")));
});
