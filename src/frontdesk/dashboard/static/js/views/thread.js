// One conversation: header with the actions, history (scrolling up loads older messages with
// `before=`), typing indicator, reply box, and the requester side panel.

import { ApiError, get, post, put } from "../api.js";
import { h, icon, replace } from "../dom.js";
import { agentName, clock, dateTime, personName } from "../format.js";
import { avatar, fieldList, senderAuthInfoSection } from "../identity.js";
import { itemsOf } from "../realtime.js";
import { RequestStatus, STATUS_LABELS, statusClass } from "../status.js";
import { attachmentOf, threadAttachments } from "./attachments.js";
import { attachCannedPicker } from "./canned.js";
import { createNotes } from "./notes.js";
import { ratingBlock, ratingCard } from "./ratings.js";
import { leadTagsLine, loadLibrary, requestTagEditor, tagChips } from "./tags.js";
import { askToVerify, emailDelivery, isSystemMessage, systemLine, tierBadge, tierOf, tierPill } from "./trust.js";

const PAGE = 30;
const TYPING_SHOWN_MS = 6000;
const TYPING_SEND_EVERY_MS = 3000;

export function openThread(pane, panel, ctx, rid, { team, onBack, onTogglePanel, onSeen }) {
  const base = `/${ctx.pid}/requests/${encodeURIComponent(rid)}`;
  const state = { request: null, messages: [], hasOlder: true, loadingOlder: false, typingTimer: null,
    stopTypingTimer: null, lastTypingSent: 0, destroyed: false, delivery: null };

  const header = h("header", { class: "thread-header" });
  const history = h("div", { class: "messages", role: "log", "aria-label": "Messages" });
  const typing = h("div", { class: "typing", hidden: true, "aria-live": "polite" });
  const notice = h("p", { class: "form-error", role: "alert", hidden: true });
  const input = h("textarea", { class: "composer-input", rows: 2, placeholder: "Write a reply…",
    "aria-label": "Reply", onKeydown: (event) => {
      if (event.key === "Enter" && !event.shiftKey) {
        event.preventDefault();
        send();
      }
    }, onInput: announceTyping });
  const sendButton = h("button", { class: "btn btn-primary", type: "submit", "aria-label": "Send" },
    icon("send"), h("span", {}, "Send"));
  const notes = createNotes(ctx, { base, team, input, onRequest: requestChanged, onError: showError,
    onNames: () => { if (state.request) renderMessages(); } });
  const thread = h("div", { class: "thread" });
  const files = threadAttachments({ ctx, input, zone: thread, onError: showError,
    canSend: () => Boolean(state.request) && state.request.status !== RequestStatus.CLOSED,
    send: async (body) => addMessages([await post(`${base}/messages`, body)]) });
  const composer = h("form", { class: "composer", onSubmit: (event) => { event.preventDefault(); send(); } },
    files.button, files.chooser, input, notes.toggle, sendButton);
  attachCannedPicker(composer, input, ctx, rid);
  const closedRating = h("div", { class: "closed-rating" });
  const closedNote = h("div", { class: "closed-note", hidden: true }, closedRating, "This conversation is closed. ",
    h("button", { type: "button", class: "link-button", onClick: () => act("reopen") }, "Reopen it"),
    " to reply.");
  const tagEditor = requestTagEditor(ctx, rid, requestChanged);
  let library = [];
  loadLibrary(ctx.pid).then((tags) => { library = tags; if (state.request) renderHeader(); });

  replace(pane, replace(thread, header, history, typing, notice, closedNote, files.uploads, composer));
  replace(panel, h("p", { class: "muted panel-loading" }, "Loading…"));
  // Older messages load when the agent scrolls up near the top, not on the jumps the
  // view makes itself (first positioning, re-rendering), which never move upward.
  let lastScrollTop = 0;
  history.addEventListener("scroll", () => {
    const top = history.scrollTop;
    const movedUp = top < lastScrollTop;
    lastScrollTop = top;
    if (movedUp && top < 60) loadOlder();
  });

  function memberName(userId) {
    const member = team.find((m) => m.id_user && m.id_user._id === userId);
    return member ? agentName(member) : "an agent";
  }

  function renderHeader() {
    const request = state.request;
    const requester = request.requester || {};
    const closed = request.status === RequestStatus.CLOSED;
    const mine = (request.participants || []).includes(ctx.me && ctx.me._id);
    const assignees = (request.participants || []).map(memberName);
    const assign = h("select", { class: "select", "aria-label": "Assign to", disabled: closed,
      onChange: (event) => { if (event.target.value) act("assign", { assignee: event.target.value }); } },
    h("option", { value: "" }, assignees.length ? "Reassign to…" : "Assign to…"),
    team.filter((m) => m.id_user && !(request.participants || []).includes(m.id_user._id))
      .map((m) => h("option", { value: m.id_user._id }, `${agentName(m)}${m.user_available ? "" : " (away)"}`)));
    replace(header,
      h("button", { class: "btn btn-ghost back-button", type: "button", onClick: onBack, "aria-label": "Back to the list" }, icon("back")),
      avatar(personName(request.lead, requester), { seed: requester.uuid_user, authenticated: tierOf(request) === "authenticated" }),
      h("div", { class: "thread-title" },
        h("h2", {}, personName(request.lead, requester), tierBadge(request)),
        h("div", { class: "thread-meta" },
          h("span", { class: statusClass(request.status), dataset: { status: String(request.status) } },
            STATUS_LABELS[request.status] || String(request.status)),
          h("span", {}, assignees.length ? `Assigned to ${assignees.join(", ")}` : "Nobody assigned"),
          tagChips(request.tags, { library }))),
      h("div", { class: "thread-actions" },
        !closed && !mine ? h("button", { class: "btn btn-primary", type: "button", onClick: () => act("assign", {}) }, "Take") : null,
        askToVerify(ctx, request, { delivery: state.delivery, onChanged: requestChanged, onError: showError }),
        assign,
        closed
          ? h("button", { class: "btn", type: "button", onClick: () => act("reopen") }, "Reopen")
          : h("button", { class: "btn", type: "button", onClick: () => act("close") }, "Close"),
        h("button", { class: "btn btn-ghost panel-toggle", type: "button", onClick: onTogglePanel }, "Details")));
    composer.hidden = closed;
    closedNote.hidden = !closed;
    replace(closedRating, closed ? ratingBlock(request, { closed }) : null);
  }

  function renderPanel() {
    const request = state.request;
    tagEditor.update(request);
    const lead = request.lead;
    const requester = request.requester || {};
    const authenticated = tierOf(request) === "authenticated";
    replace(panel,
      h("button", { class: "btn btn-ghost btn-small panel-close", type: "button", onClick: onTogglePanel }, "Close details"),
      h("section", { class: "panel-card requester-card" },
        h("div", { class: "requester-head" },
          avatar(personName(lead, requester), { seed: requester.uuid_user, authenticated, size: "lg" }),
          h("div", {}, h("h3", { class: "requester-name" }, personName(lead, requester)),
            tierPill(request))),
        fieldList(lead || {}),
        leadTagsLine(ctx, lead),
        lead ? h("a", { class: "btn btn-small", href: `/dashboard/${ctx.pid}/contacts/${lead._id}`, "data-link": true }, "Open contact") : null),
      ratingCard(request, { closed: request.status === RequestStatus.CLOSED }),
      tagEditor.element,
      h("section", { class: "panel-card" },
        senderAuthInfoSection(request.attributes && request.attributes.senderAuthInfo)),
      h("section", { class: "panel-card" },
        h("h3", { class: "panel-title" }, "Conversation"),
        h("dl", { class: "kvs" },
          h("div", { class: "kv" }, h("dt", {}, "Started"), h("dd", {}, dateTime(request.createdAt))),
          h("div", { class: "kv" }, h("dt", {}, "Channel"), h("dd", {}, (request.channel && request.channel.name) || "—")),
          h("div", { class: "kv" }, h("dt", {}, "Page"), h("dd", {}, request.sourcePage || "—")),
          h("div", { class: "kv" }, h("dt", {}, "Browser"), h("dd", { class: "wrap" }, request.userAgent || "—")))));
  }

  function renderMessage(message) {
    if (isSystemMessage(message)) return systemLine(message);
    // The side comes from the server's record of who sent it (senderKind), never from a name
    // or from comparing with the requester (a merged conversation has two visitor ids).
    const fromVisitor = message.senderKind === "visitor";
    return h("div", { class: `message ${fromVisitor ? "from-visitor" : "from-agent"}`, dataset: { messageId: message._id } },
      attachmentOf(message) || h("div", { class: "bubble" }, message.text),
      h("div", { class: "message-meta" }, `${message.senderFullname || ""} · ${clock(message.createdAt)}`));
  }

  function renderMessages({ keepOffsetFromBottom = false } = {}) {
    const fromBottom = history.scrollHeight - history.scrollTop;
    const nearBottom = fromBottom - history.clientHeight < 80;
    replace(history,
      state.hasOlder ? h("div", { class: "history-start muted" }, "Scroll up for older messages")
        : h("div", { class: "history-start muted" }, `Conversation started ${dateTime(state.request.createdAt)}`),
      notes.interleave(state.messages, renderMessage, state.request, state.hasOlder));
    if (keepOffsetFromBottom) history.scrollTop = history.scrollHeight - fromBottom;
    else if (nearBottom || state.messages.length <= PAGE) history.scrollTop = history.scrollHeight;
    const last = state.messages[state.messages.length - 1];
    if (last) onSeen(last);
  }

  // The server's order of a conversation's messages: time, then id (several messages can
  // share a millisecond).
  function byTime(a, b) {
    if (a.createdAt !== b.createdAt) return a.createdAt < b.createdAt ? -1 : 1;
    return a._id < b._id ? -1 : a._id > b._id ? 1 : 0;
  }

  function addMessages(incoming) {
    const known = new Set(state.messages.map((m) => m._id));
    // A subscribe's snapshot may reach further back than the page on screen: keep the history
    // contiguous and leave older messages to scrolling up.
    const oldest = state.hasOlder ? state.messages[0] : null;
    const fresh = incoming.filter((m) => m && m._id && !known.has(m._id)
      && !(oldest && byTime(m, oldest) < 0));
    if (fresh.length === 0) return;
    state.messages.push(...fresh);
    state.messages.sort(byTime);
    if (fresh.some((m) => m.senderKind === "visitor")) showTyping(null);
    renderMessages();
  }

  async function loadOlder() {
    if (!state.hasOlder || state.loadingOlder || state.messages.length === 0) return;
    state.loadingOlder = true;
    try {
      const older = await get(`${base}/messages`, { before: state.messages[0]._id, limit: PAGE });
      state.hasOlder = older.length === PAGE;
      state.messages.unshift(...older);
      renderMessages({ keepOffsetFromBottom: true });
    } finally {
      state.loadingOlder = false;
    }
  }

  async function catchUp() {
    const last = state.messages[state.messages.length - 1];
    const newer = await get(`${base}/messages`, last ? { after: last._id, limit: 100 } : { latest: "true", limit: PAGE });
    addMessages(newer);
    requestChanged(await get(base));
  }

  function showTyping(name) {
    clearTimeout(state.typingTimer);
    typing.hidden = !name;
    typing.textContent = name ? `${name} is typing…` : "";
    if (name) state.typingTimer = setTimeout(() => showTyping(null), TYPING_SHOWN_MS);
  }

  function onConversationEvent(payload, action) {
    if (action === "typing") {
      if (payload.user_id !== (ctx.me && ctx.me._id)) showTyping(payload.typing ? payload.fullname || "The visitor" : null);
      return;
    }
    if (action !== "publish") return;
    addMessages(itemsOf(payload).filter((item) => item && item.recipient === rid));
  }

  function sendTyping(typing) {
    ctx.live.send("typing", { topic: `/${ctx.pid}/requests/${rid}`, typing });
  }

  function announceTyping() {
    if (notes.active) {  // the visitor is not told an agent is writing a private note
      stopTyping();
      return;
    }
    clearTimeout(state.stopTypingTimer);
    state.stopTypingTimer = setTimeout(stopTyping, TYPING_SEND_EVERY_MS + 1000);
    const now = Date.now();
    if (now - state.lastTypingSent < TYPING_SEND_EVERY_MS) return;
    state.lastTypingSent = now;
    sendTyping(true);
  }

  function stopTyping() {
    clearTimeout(state.stopTypingTimer);
    if (state.lastTypingSent === 0) return;
    state.lastTypingSent = 0;
    sendTyping(false);
  }

  async function send() {
    const text = input.value.trim();
    if (!text) return;
    stopTyping();
    sendButton.disabled = true;
    notice.hidden = true;
    try {
      if (notes.active) {
        const request = await notes.add(text);
        input.value = "";
        requestChanged(request);
        return;
      }
      const message = await post(`${base}/messages`, { text });
      input.value = "";
      addMessages([message]);
    } catch (failure) {
      showError(failure);
    } finally {
      sendButton.disabled = false;
      input.focus();
    }
  }

  async function act(action, body) {
    notice.hidden = true;
    try {
      requestChanged(await put(`${base}/${action}`, body));
    } catch (failure) {
      showError(failure);
    }
  }

  function showError(failure) {
    notice.textContent = failure instanceof ApiError ? failure.message : "Could not reach the server.";
    notice.hidden = false;
  }

  function requestChanged(request) {
    if (state.destroyed) return;
    // Answers and live events cross on the way: one older than what is on screen (an
    // action's answer that arrives after the event of a later change) is not shown.
    if (state.request && request.updatedAt < state.request.updatedAt) return;
    // The same request again (a catch-up after a subscription, a repeated event): redrawing
    // would close what the agent has open in the header (the verification menu).
    if (state.request && JSON.stringify(request) === JSON.stringify(state.request)) return;
    const notesChanged = notes.changed(state.request, request);
    state.request = request;
    renderHeader();
    renderPanel();
    if (notesChanged) renderMessages();
  }

  const stops = [
    ctx.live.subscribe(`/${ctx.pid}/requests/${rid}/messages`, onConversationEvent),
    ctx.live.subscribe(`/${ctx.pid}/requests/${rid}`, onConversationEvent),
    ctx.live.poll(catchUp),
  ];

  emailDelivery(ctx.pid).then((delivery) => {
    state.delivery = delivery;
    if (state.request && !state.destroyed) renderHeader();
  });

  (async () => {
    try {
      const [request, messages] = await Promise.all([get(base), get(`${base}/messages`, { latest: "true", limit: PAGE })]);
      if (state.destroyed) return;
      // A live event that came while these were on their way (another agent closed it) is
      // newer than this answer: it stays, as requestChanged keeps it.
      if (!state.request || request.updatedAt >= state.request.updatedAt) state.request = request;
      state.messages = messages;
      state.hasOlder = messages.length === PAGE;
      renderHeader();
      renderPanel();
      renderMessages();
      input.focus();
    } catch (failure) {
      replace(pane, h("div", { class: "empty" }, h("p", {}, failure.status === 404
        ? "This conversation does not exist or was erased." : `Could not open it: ${failure.message}`)));
      replace(panel);
    }
  })();

  return {
    requestChanged,
    teamLoaded() { if (state.request) renderHeader(); },
    destroy() {
      state.destroyed = true;
      stopTyping();
      clearTimeout(state.typingTimer);
      for (const stop of stops) stop();
    },
  };
}
