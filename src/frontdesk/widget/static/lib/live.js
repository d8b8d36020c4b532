// Live updates: the /ws endpoint (SPEC section 4), with reconnect and resume, and polling
// of the REST API as a fallback when no WebSocket can be opened (a proxy that strips
// upgrades, a server without /ws).
//
// Callers subscribe to topics and receive `onPublish(topic, method, items)`. Message topics
// remember the last message id seen, so a reconnect resubscribes with `lastMessageId` and
// the server replays what was missed.

const HEARTBEAT_MS = 25000;
const SILENCE_LIMIT_MS = 70000;
const MAX_BACKOFF_MS = 30000;
const POLL_MS = 2000;

export class LiveUpdates {
  constructor({ wsUrl, onPublish, onUnauthorized, poll }) {
    this.wsUrl = wsUrl;
    this.onPublish = onPublish;
    this.onUnauthorized = onUnauthorized;
    this.poll = poll;
    this.topics = new Map(); // topic -> lastMessageId (or null)
    this.token = null;
    this.socket = null;
    this.failures = 0;
    this.everOpened = false;
    this.timers = {};
  }

  start(token) {
    this.stop();
    this.token = token;
    this.connect();
  }

  stop() {
    this.token = null;
    for (const name of Object.keys(this.timers)) this.clearTimer(name);
    if (this.socket) {
      const socket = this.socket;
      this.socket = null;
      socket.onclose = socket.onmessage = socket.onerror = null;
      socket.close(1000);
    }
    this.failures = 0;
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
    if (this.topics.has(topic)) this.topics.set(topic, messageId);
  }

  get connected() {
    return Boolean(this.socket && this.socket.readyState === WebSocket.OPEN);
  }

  sendTyping(topic) {
    this.send("typing", { topic });
  }

  // --- WebSocket -------------------------------------------------------------------------

  connect() {
    if (!this.token) return;
    let socket;
    try {
      socket = new WebSocket(this.wsUrl);
    } catch (error) {
      this.scheduleReconnect();
      return;
    }
    this.socket = socket;
    socket.onopen = () => {
      this.failures = 0;
      this.everOpened = true;
      this.clearTimer("poll");
      this.send("authenticate", { token: this.token });
      for (const topic of this.topics.keys()) this.sendSubscribe(topic);
      this.heartbeat();
    };
    socket.onmessage = (event) => this.receive(event.data);
    socket.onclose = (event) => {
      this.socket = null;
      this.clearTimer("heartbeat");
      this.clearTimer("silence");
      if (event.code === 4401) {
        this.onUnauthorized();
        return;
      }
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    if (!this.token) return;
    this.failures += 1;
    this.startPolling();
    const backoff = Math.min(MAX_BACKOFF_MS, 500 * 2 ** Math.min(this.failures, 6));
    this.setTimer("reconnect", () => this.connect(), backoff * (0.75 + Math.random() / 2));
  }

  send(action, payload) {
    if (this.connected) this.socket.send(JSON.stringify({ action, payload }));
  }

  sendSubscribe(topic) {
    const lastMessageId = this.topics.get(topic);
    this.send("subscribe", lastMessageId ? { topic, lastMessageId } : { topic });
  }

  heartbeat() {
    this.setTimer("heartbeat", () => {
      this.send("heartbeat", { message: { text: "ping" } });
      this.heartbeat();
    }, HEARTBEAT_MS);
    this.setTimer("silence", () => this.socket && this.socket.close(4000), SILENCE_LIMIT_MS);
  }

  receive(raw) {
    let frame;
    try {
      frame = JSON.parse(raw);
    } catch (error) {
      return;
    }
    this.setTimer("silence", () => this.socket && this.socket.close(4000), SILENCE_LIMIT_MS);
    const payload = frame.payload || {};
    if (frame.action === "heartbeat" && payload.message?.text === "ping") {
      this.send("heartbeat", { message: { text: "pong" } });
    } else if (frame.action === "publish" && this.topics.has(payload.topic)) {
      const items = Array.isArray(payload.message) ? payload.message : [payload.message];
      this.onPublish(payload.topic, payload.method, items.filter(Boolean));
    }
  }

  // --- Polling fallback ----------------------------------------------------------------

  startPolling() {
    if (this.timers.poll) return;
    const tick = async () => {
      if (!this.token || this.connected) {
        this.clearTimer("poll");
        return;
      }
      for (const [topic, lastMessageId] of [...this.topics]) {
        try {
          const result = await this.poll(topic, lastMessageId);
          if (result && result.items.length) this.onPublish(topic, result.method, result.items);
        } catch (error) {
          if (error.status === 401) {
            this.onUnauthorized();
            return;
          }
        }
      }
      this.setTimer("poll", tick, POLL_MS);
    };
    this.setTimer("poll", tick, this.everOpened ? 0 : POLL_MS / 2);
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
