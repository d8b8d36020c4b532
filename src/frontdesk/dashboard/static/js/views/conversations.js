// The inbox: tabs, search and identity filter, the live list, and the open conversation with
// its side panel. At tablet width one pane shows at a time.

import { get } from "../api.js";
import { debounce, h, icon, replace } from "../dom.js";
import { personName, relativeTime } from "../format.js";
import { avatar } from "../identity.js";
import { itemsOf } from "../realtime.js";
import { RequestStatus } from "../status.js";
import { UnreadTracker } from "../unread.js";
import { projectRatings } from "./ratings.js";
import { tagChips, tagFilter } from "./tags.js";
import { openThread } from "./thread.js";
import { tierBadge, tierOf } from "./trust.js";

const TABS = [
  { key: "unassigned", label: "Unassigned", query: { status: String(RequestStatus.UNASSIGNED) } },
  { key: "mine", label: "Mine", query: { status: "open", mine: "true" } },
  { key: "open", label: "All open", query: { status: "open" } },
  { key: "closed", label: "Closed", query: { status: String(RequestStatus.CLOSED) } },
];
const FILTERS = [["all", "Everyone", undefined], ["verified", "Authenticated", "true"],
  ["anonymous", "Anonymous", "false"]];
const TAB_KEY = "frontdesk.dashboard.tab";

export function conversationsView(container, ctx, initialRid) {
  ctx.setTitle("Conversations");
  const unread = new UnreadTracker(ctx.pid, () => renderList());
  const state = {
    tab: TABS.find((t) => t.key === localStorage.getItem(TAB_KEY)) || TABS[2],
    filter: FILTERS[0], text: "", tag: undefined, requests: [], rid: initialRid, thread: null, team: [], loads: 0,
  };
  const ratings = projectRatings(ctx);
  const tags = tagFilter(ctx, (tag) => { state.tag = tag; reload(); });

  const tabButtons = TABS.map((tab) => h("button", {
    type: "button", role: "tab", class: "tab", dataset: { tab: tab.key },
    onClick: () => { state.tab = tab; localStorage.setItem(TAB_KEY, tab.key); reload(); },
  }, h("span", {}, tab.label), h("span", { class: "tab-count", dataset: { count: tab.key } }, "")));

  const filterButtons = FILTERS.map((filter) => h("button", {
    type: "button", class: "segment", dataset: { filter: filter[0] },
    onClick: () => { state.filter = filter; reload(); },
  }, filter[1]));

  const search = h("input", { type: "search", class: "search-input", placeholder: "Search name, email or text",
    "aria-label": "Search conversations",
    onInput: debounce((event) => { state.text = event.target.value.trim(); reload(); }, 250) });

  const list = h("div", { class: "conv-list", role: "list", "aria-label": "Conversations" });
  const threadPane = h("section", { class: "inbox-thread", "aria-label": "Conversation" });
  const panel = h("aside", { class: "inbox-panel", "aria-label": "Requester details" });
  const inbox = h("div", { class: "inbox" },
    h("section", { class: "inbox-list" },
      h("header", { class: "inbox-list-header" },
        h("h1", { class: "page-title" }, "Conversations"),
        h("div", { class: "search" }, icon("search"), search),
        h("div", { class: "list-filters" },
          h("div", { class: "segments", role: "group", "aria-label": "Identity filter" }, filterButtons),
          tags.element),
        ratings.element,
        h("div", { class: "tabs", role: "tablist" }, tabButtons)),
      list),
    threadPane, panel);
  replace(container, inbox);

  function renderItem(request) {
    const requester = request.requester || {};
    const tier = tierOf(request);
    const authenticated = tier === "authenticated";
    const name = personName(request.lead, requester);
    const count = unread.counts.get(request.request_id) || 0;
    const waiting = request.status === RequestStatus.UNASSIGNED;
    return h("a", {
      href: `/dashboard/${ctx.pid}/conversations/${encodeURIComponent(request.request_id)}`,
      "data-link": true, role: "listitem",
      class: `conv-item${request.request_id === state.rid ? " is-active" : ""}${count ? " is-unread" : ""}`,
      dataset: { requestId: request.request_id, authenticated: String(authenticated), tier },
    },
    avatar(name, { seed: requester.uuid_user, authenticated }),
    h("div", { class: "conv-body" },
      h("div", { class: "conv-top" },
        h("span", { class: "conv-name" }, name, tierBadge(request, { compact: true })),
        h("span", { class: `conv-time${waiting ? " is-waiting" : ""}`, title: new Date(request.updatedAt).toLocaleString() },
          waiting ? `waiting ${relativeTime(request.createdAt)}` : relativeTime(request.updatedAt))),
      h("div", { class: "conv-bottom" },
        h("span", { class: "conv-last" }, request.last_text || request.first_text || ""),
        count ? h("span", { class: "unread-badge", "aria-label": `${count} unread` }, String(count)) : null),
      tagChips(request.tags)));
  }

  function renderList() {
    ctx.setUnread(unread.total);
    for (const button of tabButtons) button.setAttribute("aria-selected", String(button.dataset.tab === state.tab.key));
    for (const button of filterButtons) button.classList.toggle("is-selected", button.dataset.filter === state.filter[0]);
    if (state.requests.length === 0) {
      replace(list, h("div", { class: "empty" }, h("p", {}, state.text || state.filter[2] || state.tag
        ? "No conversation matches." : "No conversations here yet."),
      h("p", { class: "muted" }, "New ones appear here the moment a visitor writes.")));
      return;
    }
    replace(list, state.requests.map(renderItem));
  }

  // view=inbox: the rows carry what this list draws and nothing else (a far smaller page).
  const baseQuery = () => ({ text: state.text, authenticated: state.filter[2], tags: state.tag, view: "inbox" });

  async function reload() {
    const load = ++state.loads;
    const asked = unread.listAsked();
    const body = await get(`/${ctx.pid}/requests`, { ...state.tab.query, ...baseQuery(), limit: 50 });
    if (load !== state.loads) return; // a newer search or tab answered the agent already
    state.requests = body.requests;
    unread.fromList(body.requests, asked);
    renderList();
    refreshCounts();
  }

  // Past the server's count cap a tab says e.g. "10,000+": the history is not counted row by row.
  const countLabel = (body) => body.count.toLocaleString("en-US") + (body.countCapped ? "+" : "");

  async function refreshCounts() {
    const counts = await Promise.all(TABS.map((tab) =>
      get(`/${ctx.pid}/requests`, { ...tab.query, ...baseQuery(), limit: 1 }).then(countLabel)));
    TABS.forEach((tab, i) => {
      container.querySelector(`[data-count="${tab.key}"]`).textContent = counts[i];
    });
  }

  const reloadSoon = debounce(() => {
    reload().catch(() => {});
    ratings.refresh();
    tags.refresh();
  }, 200);
  const stopLive = ctx.live.subscribe(`/${ctx.pid}/requests`, (payload) => {
    for (const request of itemsOf(payload)) {
      if (state.thread && request.request_id === state.rid) state.thread.requestChanged(request);
    }
    reloadSoon();
  });
  // A marker moved in another browser of this agent: its count follows at once.
  const stopMarkers = ctx.live.subscribe(`/${ctx.pid}/project_users/${ctx.memberId}`, (payload) => {
    const markers = itemsOf(payload).filter((item) => item.request_id && typeof item.unread === "number");
    for (const marker of markers) unread.markerChanged(marker);
    if (markers.length) renderList();
  });
  const stopPoll = ctx.live.poll(() => reload());
  const ticker = setInterval(renderList, 30000);

  function select(rid) {
    state.rid = rid;
    if (state.thread) state.thread.destroy();
    state.thread = null;
    inbox.classList.toggle("has-selection", Boolean(rid));
    inbox.classList.remove("show-panel");
    for (const item of list.querySelectorAll(".conv-item")) {
      item.classList.toggle("is-active", item.dataset.requestId === rid);
    }
    if (!rid) {
      replace(threadPane, h("div", { class: "empty empty-thread" }, icon("chat"),
        h("p", {}, "Select a conversation"),
        h("p", { class: "muted" }, "Authenticated visitors carry a shield on their avatar.")));
      replace(panel);
      return;
    }
    state.thread = openThread(threadPane, panel, ctx, rid, {
      team: state.team,
      onBack: () => ctx.navigate(`/dashboard/${ctx.pid}/conversations`),
      onTogglePanel: () => inbox.classList.toggle("show-panel"),
      onSeen: (message) => { unread.markSeen(rid, message); renderList(); },
    });
  }

  get(`/${ctx.pid}/project_users`).then((team) => {
    state.team.push(...team);
    if (state.thread) state.thread.teamLoaded();
  }).catch(() => {});
  reload().catch(() => {});
  select(initialRid);

  return {
    update(rid) { if (rid !== state.rid) select(rid); },
    destroy() {
      stopLive();
      stopMarkers();
      stopPoll();
      unread.destroy();
      clearInterval(ticker);
      if (state.thread) state.thread.destroy();
    },
  };
}
