// The widget's controller: who the visitor is, their conversations, and what to show.
// Loaded by frontdesk.js, which owns the host-page API and forwards calls here.

import { Api } from "./api.js";
import { UrlCache, fileMessage, precheck, showProgress, uploadFile } from "./files.js";
import { LiveUpdates } from "./live.js";
import { VisitorStorage } from "./storage.js";
import { RequestStatus } from "./status.js";
import { Trust } from "./trust.js";
import { WidgetView } from "./view.js";

const { CLOSED } = RequestStatus;
const TYPING_EVERY_MS = 3000;
const TYPING_IDLE_MS = 4000;
const TYPING_SHOWN_MS = 6000;
// Failures that mean the stored session is gone for good (not a network hiccup).
const SESSION_GONE = new Set([401, 403, 404]);

// listening(name): whether the host page has a listener for that event.
export function start(settings, serverUrl, emit, listening = () => false) {
  return new Widget(settings, serverUrl, emit, listening);
}

class Widget {
  constructor(settings, serverUrl, emit, listening) {
    this.settings = settings;
    this.emit = emit;
    this.api = new Api(serverUrl, settings.projectid);
    this.trust = new Trust(this, listening);
    this.storage = new VisitorStorage(settings.projectid, settings.persistence);
    this.live = new LiveUpdates({
      wsUrl: serverUrl.replace(/^http/, "ws") + "/ws",
      onPublish: (topic, method, items) => this.onPublish(topic, method, items),
      onSignal: (action, payload) => this.onSignal(action, payload),
      onUnauthorized: (reason) => this.onSocketRefused(reason),
      onState: (state) => this.onConnectionState(state),
      poll: (topic, lastMessageId) => this.poll(topic, lastMessageId),
    });
    this.user = null;
    this.token = null;
    this.conversations = new Map();
    this.openRid = null;
    this.isOpen = false;
    this.config = null;
    this.localKeys = 0;
    this.typing = { rid: null, sentAt: 0, idle: null };
    this.fileUrls = new UrlCache((path) => this.authed((token) => this.api.signedFile(token, path)), serverUrl);
    this.host = mountHost();
    this.host.dataset.connection = this.live.state;
    this.view = new WidgetView(this.host, settings, this.actions());
    this.ready = this.boot();
  }

  async boot() {
    this.api.widgetConfig().then((config) => {
      this.config = config;
      if (this.isOpen && !this.openRid) this.renderHome();
    }, () => {});
    this.trust.loadAvailability();
    const continued = await this.trust.redeemContinuity();
    if (continued) {
      await this.continueConversation(continued);
      return;
    }
    const stored = this.storage.token;
    if (stored) await this.restore(stored);
    if (this.settings.isOpen || this.settings.open || this.trust.continuityError) await this.open();
  }

  // A reply e-mail's link: its session is the visitor the link was made for.
  async continueConversation({ token, user, request_id: rid }) {
    if (this.user && this.user._id !== user._id) this.resetLocal();
    await this.adopt({ token, user });
    await this.open();
    await this.openConversation(rid);
  }

  // --- identity ---------------------------------------------------------------------------

  async restore(stored) {
    try {
      await this.adopt(await this.api.signInWithToken(stored));
    } catch (error) {
      if (SESSION_GONE.has(error.status)) this.signOutLocally();
    }
  }

  async ensureSignedIn() {
    if (this.user) return this.user;
    const stored = this.storage.token;
    if (stored) {
      await this.restore(stored);
      if (this.user) return this.user;
    }
    await this.adopt(await this.api.signInAnonymously({}));
    return this.user;
  }

  async adopt(session) {
    const user = session.user;
    this.token = session.token;
    this.storage.token = session.token;
    this.user = {
      _id: user._id,
      fullName: user.fullName || [user.firstname, user.lastname].filter(Boolean).join(" "),
      email: user.email ?? null,
      isAuthenticated: Boolean(user.isAuthenticated),
    };
    this.live.start(this.token);
    this.emit("onAuthStateChanged", { isLogged: true, user: this.getUser() });
    await this.loadConversations();
    if (this.isOpen && !this.openRid) this.renderHome();
  }

  getUser() {
    return this.user ? { ...this.user } : null;
  }

  async signInAnonymous() {
    if (this.user && !this.user.isAuthenticated) return this.getUser();
    if (this.user) await this.logout();
    return this.ensureSignedIn();
  }

  async signInWithCustomToken(jwt) {
    const mergeable = this.user && !this.user.isAuthenticated && this.settings.mergeAnonymous !== false;
    // Answering an agent's request to verify (a step-up) keeps its conversation on screen.
    // Decided before signing in: the upgrade's event may arrive before the sign-in's answer.
    const stepUp = this.openRid && this.trust.pendingRequest(this.conversation(this.openRid)) ? this.openRid : null;
    const session = await this.api.signInWithToken(jwt, mergeable ? this.token : null);
    if (this.user && this.user._id !== session.user._id) {
      const previous = this.token;
      this.resetLocal();
      // A merge already ended the anonymous session on the server.
      if (!session.merge?.merged) this.api.logout(previous).catch(() => {});
    }
    await this.adopt(session);
    if (this.isOpen && stepUp && this.conversations.get(stepUp)?.request) await this.openConversation(stepUp);
    else if (this.isOpen) this.renderHome();
    return this.getUser();
  }

  async logout() {
    const token = this.token;
    this.signOutLocally();
    if (token) await this.api.logout(token).catch(() => {});
  }

  // The session is over (logout, revoked, expired): forget everything about this visitor.
  signOutLocally() {
    const wasSignedIn = Boolean(this.user || this.token);
    this.resetLocal();
    this.storage.clear();
    if (wasSignedIn) this.emit("onAuthStateChanged", { isLogged: false, user: null });
    if (this.isOpen) this.renderHome();
  }

  resetLocal() {
    this.trust.reset();
    this.live.stop();
    this.live.forgetTopics();
    this.user = null;
    this.token = null;
    this.conversations.clear();
    this.fileUrls.clear();
    this.openRid = null;
    this.view.setBadge(0);
  }

  // The socket was closed with 4401 or 4403. A revoked session (logout in another tab,
  // erasure) is over for good; an expired or refused token, or a visitor the project's policy
  // no longer admits, gets one re-sign-in, which signs out on 401/403.
  async onSocketRefused(reason) {
    const token = this.token;
    if (!token) return;
    if (reason === "session_revoked") {
      this.signOutLocally();
      return;
    }
    await this.restore(token);
    if (this.token === token && this.live.state === "offline") this.live.retry(token);
  }

  getConnectionState() {
    return this.live.state;
  }

  onConnectionState(state) {
    this.host.dataset.connection = state;
    this.emit("onConnectionStateChanged", { state });
  }

  // Every authenticated call goes through here, so a 401 anywhere signs the widget out.
  async authed(call) {
    if (!this.token) await this.ensureSignedIn();
    try {
      return await call(this.token);
    } catch (error) {
      if (error.status === 401) this.signOutLocally();
      throw error;
    }
  }

  // --- conversations ----------------------------------------------------------------------

  conversation(rid) {
    if (!this.conversations.has(rid)) {
      this.conversations.set(rid, { rid, request: null, messages: [], loaded: false, unread: 0, typingUntil: 0 });
    }
    return this.conversations.get(rid);
  }

  async loadConversations() {
    const { requests } = await this.authed((token) => this.api.myRequests(token));
    for (const request of requests) {
      const c = this.conversation(request.request_id);
      c.request = request;
      this.trust.requestChanged(c);
      if (request.status !== CLOSED) this.watch(c);
    }
  }

  // Returns the messages it added (those not shown yet).
  async loadMessages(c) {
    if (c.loaded || !c.request) return [];
    const history = await this.authed((token) => this.api.messages(token, c.rid));
    const known = new Set(history.map((m) => m._id));
    const shown = new Map(c.messages.filter((m) => m._id).map((m) => [m._id, m]));
    const extra = c.messages.filter((m) => !m._id || !known.has(m._id));
    const added = [];
    c.messages = history.map((m) => {
      if (shown.has(m._id)) return shown.get(m._id);
      const message = this.fromServer(m);
      added.push(message);
      return message;
    }).concat(extra);
    c.loaded = true;
    return added;
  }

  async watch(c) {
    // A new conversation may hold lines the server wrote along with the first message (the
    // off-hours message): they are fetched once and put in their place.
    const added = await this.loadMessages(c).catch(() => []);
    for (const message of added) this.view.upsertMessage(c.rid, message);
    const last = [...c.messages].reverse().find((m) => m._id);
    this.live.subscribe(this.topic(c.rid) + "/messages", last ? last._id : null);
    this.live.subscribe(this.topic(c.rid));
  }

  topic(rid) {
    return `/${this.settings.projectid}/requests/${rid}`;
  }

  newRequestId() {
    const hex = crypto.randomUUID ? crypto.randomUUID().replace(/-/g, "")
      : Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
    return `support-group-${this.settings.projectid}-${hex}`;
  }

  fromServer(m) {
    return {
      key: m._id, _id: m._id, text: m.text, time: m.createdAt, senderName: m.senderFullname,
      // Every visitor message of a conversation is this visitor's, including those it wrote
      // anonymously before a merge; the server records the kind of sender.
      mine: m.senderKind === "visitor", system: m.senderKind === "system", state: null,
      type: m.type, metadata: m.metadata,
    };
  }

  // --- live updates -----------------------------------------------------------------------

  onPublish(topic, method, items) {
    const match = topic.match(/\/requests\/([^/]+)(\/messages)?$/);
    if (!match || !this.conversations.has(match[1])) return;
    const rid = match[1];
    if (match[2]) items.forEach((m) => this.receiveMessage(rid, m));
    else items.forEach((request) => this.receiveRequest(rid, request));
    if (match[2]) this.markRead(rid);
  }

  onSignal(action, payload) {
    if (action !== "typing" || !this.conversations.has(payload.request_id)) return;
    if (this.user && payload.user_id === this.user._id) return; // this visitor in another tab
    this.receiveTyping(payload.request_id, payload.typing ? payload.fullname || "Someone" : null);
  }

  receiveMessage(rid, raw) {
    const c = this.conversation(rid);
    this.live.noteMessage(this.topic(rid) + "/messages", raw._id);
    if (c.messages.some((m) => m._id === raw._id)) return;
    const message = this.fromServer(raw);
    const pending = message.mine && c.messages.find((m) => !m._id && m.state === "pending" && m.text === raw.text);
    if (pending) {
      Object.assign(pending, { _id: raw._id, time: raw.createdAt, state: null });
      this.view.upsertMessage(rid, pending);
      return;
    }
    c.messages.push(message);
    if (c.request) Object.assign(c.request, { last_text: raw.text, updatedAt: raw.createdAt });
    if (!message.mine) {
      c.typingUntil = 0;
      this.view.setTyping(rid, null);
      if (!(this.isOpen && this.openRid === rid)) c.unread += 1;
    }
    this.view.upsertMessage(rid, message);
    this.view.updateConversation(this.conversationModel(c));
    this.refreshBadge();
    if (this.isOpen && !this.openRid) this.renderHome();
    this.emit("onMessageCreated", { conversationId: rid, message: raw, isMine: message.mine });
  }

  receiveRequest(rid, request) {
    const c = this.conversation(rid);
    c.request = { ...c.request, ...request };
    this.trust.requestChanged(c);
    this.view.updateConversation(this.conversationModel(c));
    if (this.isOpen && !this.openRid) this.renderHome();
  }

  // Availability or the visitor's tier changed: redraw what depends on them.
  refreshScreen() {
    if (!this.isOpen) return;
    if (this.openRid) this.view.updateConversation(this.conversationModel(this.conversation(this.openRid)));
    else this.renderHome();
  }

  // name: who is typing, or null when they stopped. The indicator also fades by itself, in
  // case the "stopped" frame never comes (the agent closed their tab).
  receiveTyping(rid, name) {
    const c = this.conversation(rid);
    c.typingUntil = name ? Date.now() + TYPING_SHOWN_MS : 0;
    this.view.setTyping(rid, name);
    if (!name) return;
    setTimeout(() => {
      if (Date.now() >= c.typingUntil) this.view.setTyping(rid, null);
    }, TYPING_SHOWN_MS + 50);
  }

  // Tell the agents the visitor has seen their latest message (only while it is on screen).
  markRead(rid) {
    const c = this.conversation(rid);
    if (!(this.isOpen && this.openRid === rid && document.visibilityState !== "hidden")) return;
    const last = [...c.messages].reverse().find((m) => !m.mine && m._id);
    if (!last || c.readUpTo === last._id) return;
    if (this.live.send("read", { topic: this.topic(rid), message_id: last._id })) c.readUpTo = last._id;
  }

  // Typing goes to the conversation's topic: true while the visitor types (repeated every
  // few seconds), false once they send or pause.
  sendTyping(rid, typing) {
    clearTimeout(this.typing.idle);
    if (typing) {
      this.typing.idle = setTimeout(() => this.sendTyping(rid, false), TYPING_IDLE_MS);
      if (this.typing.rid === rid && Date.now() - this.typing.sentAt < TYPING_EVERY_MS) return;
      this.typing = { rid, sentAt: Date.now(), idle: this.typing.idle };
    } else {
      if (this.typing.rid !== rid) return;
      this.typing = { rid: null, sentAt: 0, idle: null };
    }
    this.live.send("typing", { topic: this.topic(rid), typing });
  }

  async poll(topic, lastMessageId) {
    const match = topic.match(/\/requests\/([^/]+)(\/messages)?$/);
    if (!match || !this.token) return null;
    const c = this.conversation(match[1]);
    if (match[2]) {
      const items = await this.api.messages(this.token, c.rid, lastMessageId);
      return { method: "CREATE", items };
    }
    const request = await this.api.request(this.token, c.rid);
    const changed = !c.request || request.updatedAt !== c.request.updatedAt || request.status !== c.request.status;
    return { method: "UPDATE", items: changed ? [request] : [] };
  }

  refreshBadge() {
    let unread = 0;
    for (const c of this.conversations.values()) unread += c.unread;
    this.view.setBadge(unread);
  }

  // --- sending ------------------------------------------------------------------------------

  profile() {
    const stored = this.storage.profile || {};
    return {
      name: this.settings.userFullname || stored.name || null,
      email: this.settings.userEmail || stored.email || null,
    };
  }

  // file: {type, metadata} of an uploaded file, and the local message that showed its upload.
  async sendInto(rid, text, file = null) {
    const c = this.conversation(rid);
    const isNew = !c.request;
    const message = file?.local || { key: `local-${++this.localKeys}`, _id: null, text, mine: true };
    Object.assign(message, { text, state: "pending", type: file?.type, metadata: file?.metadata });
    if (!file?.local) c.messages.push(message);
    this.view.upsertMessage(rid, message);
    const { name, email } = this.profile();
    const body = { text, sourcePage: location.href, attributes: {} };
    if (file) Object.assign(body, { type: file.type, metadata: file.metadata });
    if (name) {
      body.senderFullname = name;
      body.attributes.userFullname = name;
    }
    if (email) body.attributes.userEmail = email;
    if (isNew && this.trust.department()) body.departmentid = this.trust.department();
    try {
      const sent = await this.authed((token) => this.api.sendMessage(token, rid, body));
      Object.assign(message, { _id: message._id || sent._id, time: sent.createdAt, state: null });
      c.request = sent.request || c.request;
      c.loaded = !isNew;
      this.view.upsertMessage(rid, message);
      this.view.updateConversation(this.conversationModel(c));
      if (isNew) {
        this.watch(c);
        this.emit("onNewConversation", { conversationId: rid });
      }
      this.emit("onMessageCreated", { conversationId: rid, message: sent, isMine: true });
      return sent;
    } catch (error) {
      Object.assign(message, { state: "failed", error: error.message });
      this.view.upsertMessage(rid, message);
      throw error;
    }
  }

  // Upload a file into the open conversation (progress and cancel on a local message), then
  // send the message that carries it. A refused or failed upload stays on screen with why.
  async attach(rid, file) {
    const c = this.conversation(rid);
    const refusal = precheck(file, this.config?.project?.maxUploadBytes);
    const local = { key: `local-${++this.localKeys}`, _id: null, text: file.name, mine: true, state: "uploading",
      upload: { name: file.name || "file", size: file.size, progress: 0, error: refusal } };
    const forget = () => {
      if (c.messages.includes(local)) c.messages.splice(c.messages.indexOf(local), 1);
      this.view.removeMessage(rid, local.key);
    };
    local.upload.dismiss = forget;
    c.messages.push(local);
    this.view.upsertMessage(rid, local);
    if (local.upload.error) return;
    try {
      await this.ensureSignedIn();
      const upload = uploadFile({ url: this.api.uploadUrl(), token: this.token, file,
        onProgress: (progress) => showProgress(local.upload, progress) || this.view.upsertMessage(rid, local) });
      local.upload.cancel = () => upload.abort();
      this.view.upsertMessage(rid, local);
      const sent = fileMessage(await upload.done);
      delete local.upload;
      await this.sendInto(rid, sent.text, { ...sent, local });
    } catch (error) {
      if (error.code === "aborted") forget();
      else if (local.upload) {
        if (error.status === 401) this.signOutLocally();
        Object.assign(local.upload, { error: error.message, cancel: null });
        this.view.upsertMessage(rid, local);
      }
    }
  }

  async sendMessage(text) {
    await this.ensureSignedIn();
    const current = this.openRid && this.conversation(this.openRid);
    const usable = current && (!current.request || current.request.status !== CLOSED);
    if (!usable) await this.startConversation();
    if (!this.isOpen) await this.open();
    return this.sendInto(this.openRid, String(text));
  }

  // --- screens ------------------------------------------------------------------------------

  async open() {
    if (!this.isOpen) {
      this.isOpen = true;
      this.view.setOpen(true);
      this.emit("onOpen", {});
    }
    if (this.openRid) await this.openConversation(this.openRid);
    else this.renderHome();
    this.trust.loadAvailability();
    try {
      await this.ensureSignedIn();
    } catch (error) {
      this.view.showError("We could not connect to the chat. Please try again in a moment.");
    }
  }

  close() {
    if (!this.isOpen) return;
    this.isOpen = false;
    this.view.setOpen(false);
    this.emit("onClose", {});
  }

  title() {
    return this.settings.widgetTitle || this.config?.project?.name || "Support";
  }

  renderHome() {
    const conversations = [...this.conversations.values()]
      .filter((c) => c.request)
      .sort((a, b) => String(b.request.updatedAt).localeCompare(String(a.request.updatedAt)))
      .map((c) => ({
        rid: c.rid, title: this.agentName(c) || this.title(), preview: c.request.last_text || "",
        time: c.request.updatedAt, closed: c.request.status === CLOSED, unread: c.unread,
      }));
    this.view.renderHome({
      title: this.settings.welcomeTitle || this.greeting(),
      welcome: this.settings.welcomeMsg || `Questions? The ${this.title()} team is here to help.`,
      signedInAs: this.user?.isAuthenticated ? this.user.fullName : null,
      agents: (this.config?.user_available || []).map((a) => [a.firstname, a.lastname].filter(Boolean).join(" ")),
      conversations,
      trust: this.trust.homeNodes(),
    });
  }

  greeting() {
    const first = this.user?.isAuthenticated ? this.user.fullName.split(" ")[0] : "";
    return first ? `Hi ${first}!` : "Hi there!";
  }

  agentName(c) {
    const last = [...c.messages].reverse().find((m) => !m.mine && !m.system && m._id);
    return last ? last.senderName : null;
  }

  conversationModel(c) {
    const closed = Boolean(c.request && c.request.status === CLOSED);
    const agent = this.agentName(c);
    return {
      rid: c.rid,
      title: agent || this.title(),
      subtitle: closed ? "Conversation closed" : agent ? `${this.title()} team`
        : this.trust.subtitle() || "We usually reply in a few minutes",
      canEnd: Boolean(c.request) && !closed,
      closed,
      rating: c.request ? c.request.rating : null,
      welcome: this.settings.welcomeMsg || "Hi! How can we help you today?",
      welcomeFrom: this.title(),
      messages: c.messages,
      trust: this.trust.conversationNodes(c),
    };
  }

  async startConversation() {
    const rid = this.newRequestId();
    this.conversation(rid);
    await this.openConversation(rid);
  }

  async openConversation(rid) {
    const c = this.conversation(rid);
    this.openRid = rid;
    c.unread = 0;
    this.refreshBadge();
    await this.loadMessages(c).catch(() => {});
    if (this.openRid !== rid) return;
    this.view.renderConversation(this.conversationModel(c));
    this.markRead(rid);
  }

  actions() {
    return {
      toggle: () => (this.isOpen ? this.close() : this.open()),
      close: () => this.close(),
      back: () => {
        this.openRid = null;
        this.renderHome();
        this.loadConversations().then(() => !this.openRid && this.isOpen && this.renderHome(), () => {});
      },
      newConversation: () => {
        const { name } = this.profile();
        if (this.settings.preChatForm && !name && !this.user?.isAuthenticated) {
          this.openRid = null;
          this.view.renderPrechat(this.profile());
        } else {
          this.startConversation();
        }
      },
      submitPrechat: (profile) => {
        this.storage.profile = profile;
        this.startConversation();
      },
      openConversation: (rid) => this.openConversation(rid),
      send: (text) => {
        this.sendTyping(this.openRid, false);
        this.sendInto(this.openRid, text).catch(() => {});
      },
      attach: (files) => files.forEach((file) => this.attach(this.openRid, file)),
      fileUrls: this.fileUrls,
      typing: () => {
        const c = this.openRid && this.conversation(this.openRid);
        if (c && c.request) this.sendTyping(c.rid, true);
      },
      endConversation: () => this.changeRequest((token, rid) => this.api.closeRequest(token, rid)),
      rate: (rating, comment) => this.changeRequest((token, rid) => this.api.rate(token, rid, rating, comment)),
    };
  }

  async changeRequest(call) {
    const rid = this.openRid;
    try {
      const request = await this.authed((token) => call(token, rid));
      this.receiveRequest(rid, request);
    } catch (error) {
      this.view.showError(error.message);
    }
  }
}

function mountHost() {
  if (!customElements.get("frontdesk-widget")) {
    customElements.define("frontdesk-widget", class extends HTMLElement {});
  }
  const host = document.createElement("frontdesk-widget");
  (document.body || document.documentElement).append(host);
  return host;
}
