// Notifications while the dashboard is hidden: a desktop notification, a short tone and a
// count in the page title, for a new conversation the agent may take and for a visitor's
// message in one of the agent's own. Each can be turned off; the choices live on the server
// (GET/PUT /:pid/project_users/me/notifications) and are read when the project opens.
//
// notify(title, body, options) is the one door: other features call it too.

import { get, put } from "../api.js";
import { h, svgIcon } from "../dom.js";
import { itemsOf } from "../realtime.js";
import { RequestStatus } from "../status.js";

const CHOICES = [
  ["desktop", "Desktop notifications"],
  ["sound", "Sound"],
  ["title", "Count in the tab title"],
];

const state = {
  prefs: { desktop: true, sound: true, title: true },
  unseen: 0, // notifications raised since the page was last visible
  baseTitle: document.title,
  audio: null,
  renderers: new Set(), // menus to redraw once the choices are loaded
};

function pageHidden() {
  return document.visibilityState === "hidden";
}

// The page title as the app sets it, with the count of what arrived while hidden in front.
export function titleWithCount(title) {
  state.baseTitle = title;
  return state.prefs.title && state.unseen ? `(${state.unseen}) ${title}` : title;
}

function showTitle() {
  document.title = titleWithCount(state.baseTitle);
}

document.addEventListener("visibilitychange", () => {
  if (pageHidden()) return;
  state.unseen = 0;
  showTitle();
});

// A short two-note tone made with WebAudio: no file to fetch, nothing external.
function playTone() {
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;
  try {
    state.audio = state.audio || new Context();
    const audio = state.audio;
    if (audio.state === "suspended") audio.resume().catch(() => {});
    const gain = audio.createGain();
    gain.connect(audio.destination);
    const now = audio.currentTime;
    gain.gain.setValueAtTime(0.0001, now);
    gain.gain.exponentialRampToValueAtTime(0.15, now + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + 0.35);
    const tone = audio.createOscillator();
    tone.type = "sine";
    tone.frequency.setValueAtTime(880, now);
    tone.frequency.setValueAtTime(1320, now + 0.12);
    tone.connect(gain);
    tone.start(now);
    tone.stop(now + 0.36);
  } catch {
    // A browser that refuses audio still gets the notification and the title.
  }
}

// Raise a notification (if the agent keeps them on). By default only while the page is
// hidden; options: { tag, url, always } — tag replaces an earlier notification with the
// same tag, url is opened in this tab when the notification is clicked.
export function notify(title, body, options = {}) {
  if (!options.always && !pageHidden()) return false;
  const { prefs } = state;
  if (prefs.desktop && "Notification" in window && Notification.permission === "granted") {
    try {
      const shown = new Notification(title, { body, tag: options.tag, icon: "/dashboard/static/favicon.svg" });
      shown.onclick = () => {
        window.focus();
        if (options.url) window.dispatchEvent(new CustomEvent("frontdesk:navigate", { detail: options.url }));
        shown.close();
      };
    } catch {
      // Some browsers only notify from a service worker: the sound and title still tell.
    }
  }
  if (prefs.sound) playTone();
  state.unseen += 1;
  showTitle();
  return true;
}

// Who may take a new conversation: an agent of its department (all agents when the
// department lists none).
function mayTake(request, me, departments) {
  const department = departments.get(request.department);
  if (!department) return true;
  return department.agents.length === 0 || department.agents.includes(me);
}

function nameOf(request) {
  const lead = request.lead || {};
  const requester = request.requester || {};
  return lead.fullname || [requester.firstname, requester.lastname].filter(Boolean).join(" ") || "A visitor";
}

// Watches the project's conversations for as long as the project is open in this tab.
export function watchConversations({ pid, me, live }) {
  const known = new Map(); // request_id -> id of the newest message seen (null: none yet)
  const departments = new Map();
  let stopped = false;

  const loadDepartments = () => get(`/${pid}/departments`).then((list) => {
    departments.clear();
    for (const department of list) departments.set(department._id, department);
  }).catch(() => {});
  const loadPrefs = () => get(`/${pid}/project_users/me/notifications`).then((prefs) => {
    state.prefs = prefs;
    showTitle();
    for (const render of state.renderers) render();
  }).catch(() => {});
  const ready = Promise.all([loadDepartments(), loadPrefs()]);

  async function consider(request) {
    const rid = request.request_id;
    const last = request.lastMessage;
    const firstSight = !known.has(rid);
    const previous = known.get(rid);
    known.set(rid, last ? last._id : null);
    // A request first seen with messages comes from a snapshot or a resume: nothing new.
    // One first seen without any is being opened right now; its first message follows.
    if (firstSight || !last || last._id === previous || last.senderKind !== "visitor") return;
    if (request.department && !departments.has(request.department)) await loadDepartments();
    if (stopped) return;
    const url = `/dashboard/${pid}/conversations/${encodeURIComponent(rid)}`;
    const text = request.last_text || "";
    if ((request.participants || []).includes(me)) {
      const opening = previous === null;
      notify(opening ? `New conversation: ${nameOf(request)}` : nameOf(request), text, { tag: rid, url });
    } else if (previous === null && request.status === RequestStatus.UNASSIGNED && mayTake(request, me, departments)) {
      notify(`New conversation waiting: ${nameOf(request)}`, text, { tag: rid, url });
    }
  }

  const stop = live.subscribe(`/${pid}/requests`, (payload, action) => {
    if (action !== "publish") return;
    ready.then(async () => {
      for (const request of itemsOf(payload)) await consider(request);
    });
  });
  return () => {
    stopped = true;
    state.renderers.clear();
    stop();
  };
}

const PROMPT_DISMISSED = "frontdesk.dashboard.notify-prompt-dismissed";
const BELL = "M12 22a2.5 2.5 0 0 0 2.5-2.5h-5A2.5 2.5 0 0 0 12 22zm7-6V11a7 7 0 0 0-5.5-6.8V3a1.5 1.5 0 0 0-3 0v1.2A7 7 0 0 0 5 11v5l-2 2v1h18v-1l-2-2z";

// The menu where the agent turns each kind on or off, and the prompt that asks the browser's
// permission for desktop notifications (only on a click: browsers ignore asking otherwise).
export function notificationsMenu(pid) {
  const supported = "Notification" in window;
  const permission = h("p", { class: "notify-permission muted" });
  const allowButton = (label) => h("button", { class: "btn btn-small", type: "button", onClick: askPermission }, label);
  const allow = allowButton("Allow desktop notifications");
  const prompt = h("div", { class: "notify-prompt", role: "region", "aria-label": "Desktop notifications", hidden: true },
    h("p", {}, "Get a desktop notification and a sound when a visitor writes while this tab is hidden?"),
    h("div", { class: "notify-prompt-actions" }, allowButton("Allow"),
      h("button", { class: "btn btn-small btn-ghost", type: "button", onClick: () => {
        localStorage.setItem(PROMPT_DISMISSED, "1");
        render();
      } }, "Not now")));

  async function askPermission() {
    try {
      await Notification.requestPermission();
    } finally {
      render();
    }
  }

  const boxes = CHOICES.map(([key, label]) => {
    const box = h("input", { type: "checkbox", dataset: { notify: key }, checked: state.prefs[key],
      onChange: async (event) => {
        const wanted = event.target.checked;
        try {
          state.prefs = await put(`/${pid}/project_users/me/notifications`, { [key]: wanted });
        } catch {
          event.target.checked = !wanted;
        }
        showTitle();
        render();
      } });
    return h("label", { class: "notify-choice" }, box, h("span", {}, label));
  });

  function render() {
    const wanted = state.prefs.desktop;
    const asking = supported && wanted && Notification.permission === "default";
    allow.hidden = !asking;
    prompt.hidden = !asking || localStorage.getItem(PROMPT_DISMISSED) === "1";
    permission.textContent = !supported ? "This browser cannot show desktop notifications."
      : !wanted ? ""
        : Notification.permission === "denied" ? "Desktop notifications are blocked for this site in the browser's settings."
          : asking ? "The browser asks once whether this site may show them." : "";
    permission.hidden = !permission.textContent;
    for (const box of boxes) {
      const input = box.querySelector("input");
      input.checked = state.prefs[input.dataset.notify];
    }
  }
  state.renderers.add(render);

  const panel = h("div", { class: "notify-panel", hidden: true, role: "group", "aria-label": "Notifications" },
    h("p", { class: "notify-heading" }, "While this tab is hidden, tell me about new conversations I may take, visitors' messages in mine and notes that mention me:"),
    boxes, permission, allow);
  const toggle = h("button", { class: "btn btn-ghost btn-small notify-toggle", type: "button", "aria-expanded": "false",
    onClick: () => {
      panel.hidden = !panel.hidden;
      toggle.setAttribute("aria-expanded", String(!panel.hidden));
      render();
    } }, svgIcon("bell", BELL), h("span", { class: "notify-label" }, "Notifications"));
  render();
  return h("div", { class: "notify-menu" }, prompt, toggle, panel);
}
