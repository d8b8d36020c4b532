// Live updates over /ws, in the protocol docs/realtime.md describes: authenticate, wait for
// `authenticated`, subscribe (with `after` = the last message seen, so a reconnect replays
// exactly what was missed), answer heartbeats. A socket that drops is reopened with back-off;
// polling the REST API runs only while no socket can be opened at all (a proxy that strips
// upgrades, a server without /ws) and stops as soon as one is live again.
//
// States: "offline" (not started), "connecting", "live" (authenticated), "polling".

const SILENCE_LIMIT_MS = 70000; // the server pings every 25 s by default
const FIRST_RETRY_MS = 500;
const MAX_BACKOFF_MS = 30000;
const POLL_MS = 2000;
const REFUSED_FOR_GOOD = new Set(["unknown_topic", "not_your_request", "request_not_found", "wrong_project"]);

export class LiveUpdates {
  // onPublish(topic, method, items): a publish frame, or what a poll found.
  // onSignal(action, payload): typing and read frames.
  // onUnauthorized(reason): the server closed with 4401 or 4403; the socket stays closed.
  // onState(state): the connection state changed.
  // poll(topic, lastMessageId): {method, items} from the REST API.
  constructor({ wsUrl, onPublish, onSignal, onUnauthorized, onState, poll }) {
    Object.assign(this, { wsUrl, onPublish, onSignal, onUnauthorized, onState, poll });
    this.topics = new Map(); // topic -> last message id seen (messages topics) or null
    this.token = null;
    this.socket = null;
    this.failures = 0;
    this.state = "offline";
    this.timers = {};
  }

  start(token) {
    this.stop();
    this.token = token;
    this.connect();
  }

  stop() {
    this.token = null;
    this.failures = 0;
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
    this.detach(1000);
    this.setState("offline");
  }

  // After a 4401 the caller may keep the visitor (a network error while re-signing in):
  // try again later with the same token.
  retry(token) {
    this.token = token;
    this.scheduleReconnect(false);
  }

  forgetTopics() {
    for (const topic of this.topics.keys()) this.send("unsubscribe", { topic });
    this.topics.clear();
  }

  subscribe(topic, lastMessageId = null) {
    const known = this.topics.get(topic);
    this.topics.set(topic, lastMessageId ?? known ?? null);
    if (known === undefined) this.sendSubscribe(topic);
  }

  noteMessage(topic, messageId) {
    if (this.topics.has(topic) && messageId) this.topics.set(topic, messageId);
  }

  get live() {
    return this.state === "live";
  }

  // Frames other than authenticate go out only once the server has accepted the token:
  // anything earlier would close the socket with 4401 authentication_required.
  send(action, payload) {
    if (!this.live) return false;
    this.socket.send(JSON.stringify({ action, payload }));
    return true;
  }

  // --- WebSocket -------------------------------------------------------------------------

  connect() {
    if (!this.token) return;
    if (this.state !== "polling") this.setState("connecting");
    let socket;
    try {
      socket = new WebSocket(this.wsUrl);
    } catch (error) {
      this.scheduleReconnect(false);
      return;
    }
    let opened = false;
    this.socket = socket;
    socket.onopen = () => {
      opened = true;
      socket.send(JSON.stringify({ action: "authenticate", payload: { token: this.token } }));
      this.expectLife();
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      this.socket = null;
      this.clearTimer("silence");
      // 4401: the session is over; 4403: this visitor may no longer use the project (the
      // policy changed). Either way, reconnecting with the same token cannot help.
      if (event.code === 4401 || event.code === 4403) {
        this.token = null;
        this.setState("offline");
        this.onUnauthorized(event.reason);
        return;
      }
      this.scheduleReconnect(opened);
    };
  }

  // Forget the current socket without hearing its close (stop, or a connection gone silent).
  detach(code) {
    const socket = this.socket;
    if (!socket) return;
    this.socket = null;
    socket.onopen = socket.onclose = socket.onmessage = socket.onerror = null;
    try {
      socket.close(code);
    } catch (error) {
      // already closing
    }
  }

  scheduleReconnect(opened) {
    if (!this.token) return;
    this.failures += 1;
    if (!opened) this.startPolling();
    else this.setState("connecting");
    const backoff = Math.min(MAX_BACKOFF_MS, FIRST_RETRY_MS * 2 ** Math.min(this.failures - 1, 6));
    this.setTimer("reconnect", () => this.connect(), backoff * (0.75 + Math.random() / 2));
  }

  // A socket can die without a close (sleeping laptop, dropped NAT entry): the server's
  // heartbeats stop arriving, and then this reopens one.
  expectLife() {
    this.setTimer("silence", () => {
      this.detach(4000);
      this.scheduleReconnect(true);
    }, SILENCE_LIMIT_MS);
  }

  sendSubscribe(topic) {
    const after = this.topics.get(topic);
    this.send("subscribe", after ? { topic, after } : { topic });
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch (error) {
      return;
    }
    this.expectLife();
    const payload = frame.payload || {};
    switch (frame.action) {
      case "heartbeat":
        if (payload.message?.text === "ping") this.send("heartbeat", { message: { text: "pong" } });
        break;
      case "authenticated":
        this.authenticated();
        break;
      case "publish":
        if (this.topics.has(payload.topic)) {
          const items = Array.isArray(payload.message) ? payload.message : [payload.message];
          this.onPublish(payload.topic, payload.method, items.filter(Boolean));
        }
        break;
      case "subscribed":
        // More was missed than one replay holds: page the rest over REST.
        if (payload.complete === false) this.pollTopic(payload.topic);
        break;
      case "typing":
      case "read":
        this.onSignal(frame.action, payload);
        break;
      case "error":
        // A refused subscribe (conversation erased, not ours): stop asking for it.
        if (REFUSED_FOR_GOOD.has(payload.code)) this.topics.delete(payload.topic);
        break;
    }
  }

  authenticated() {
    this.failures = 0;
    this.clearTimer("poll");
    this.setState("live");
    for (const topic of this.topics.keys()) this.sendSubscribe(topic);
  }

  // --- Polling fallback ----------------------------------------------------------------

  startPolling() {
    this.setState("polling");
    if (this.timers.poll) return;
    const tick = async () => {
      if (!this.token || this.live) return;
      for (const topic of [...this.topics.keys()]) await this.pollTopic(topic);
      if (this.token && !this.live) this.setTimer("poll", tick, POLL_MS);
    };
    this.setTimer("poll", tick, POLL_MS / 2);
  }

  async pollTopic(topic) {
    try {
      const result = await this.poll(topic, this.topics.get(topic));
      if (result && result.items.length && this.topics.has(topic)) {
        this.onPublish(topic, result.method, result.items);
      }
    } catch (error) {
      if (error.status === 401 && this.token) {
        this.stop();
        this.onUnauthorized("unauthorized");
      }
    }
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.onState(state);
  }

  setTimer(name, fn, ms) {
    this.clearTimer(name);
    this.timers[name] = setTimeout(() => {
      delete this.timers[name];
      fn();
    }, ms);
  }

  clearTimer(name) {
    clearTimeout(this.timers[name]);
    delete this.timers[name];
  }
}
