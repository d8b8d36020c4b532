// The realtime protocol of docs/realtime.md, as the dashboard consumes it: one socket per tab,
// topic subscriptions, heartbeats answered, reconnection with back-off. Whenever the socket is
// down the registered pollers run instead. A change committed before a subscription takes
// effect reaches no socket, so the pollers run once more whenever the server has acknowledged
// every topic asked for (after the page's first reads, after a reconnection, after opening a
// conversation): a page never misses what happened in between.

const POLL_MS = 4000;
const MAX_BACKOFF_MS = 30000;

export class Live extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.handlers = new Map();
    this.pollers = new Set();
    this.state = "connecting";
    this.socket = null;
    this.attempts = 0;
    this.stopped = false;
    this.pollTimer = null;
    this.retryTimer = null;
    this.unacknowledged = new Set(); // topics asked for on this socket, not yet answered
  }

  start() {
    this.connect();
    this.pollTimer = setInterval(() => {
      if (this.state !== "live") this.pollNow();
    }, POLL_MS);
  }

  stop() {
    this.stopped = true;
    clearInterval(this.pollTimer);
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000);
  }

  // Calls handler(payload) for every publish on topic; returns the unsubscribe function.
  subscribe(topic, handler) {
    if (!this.handlers.has(topic)) {
      this.handlers.set(topic, new Set());
      this.ask(topic);
    }
    this.handlers.get(topic).add(handler);
    return () => {
      const set = this.handlers.get(topic);
      if (!set) return;
      set.delete(handler);
      if (set.size === 0) {
        this.handlers.delete(topic);
        this.send("unsubscribe", { topic });
      }
    };
  }

  // poll() runs while the socket is down and once each time subscriptions took effect.
  poll(poller) {
    this.pollers.add(poller);
    return () => this.pollers.delete(poller);
  }

  // Whether the frame left: only a live socket (authenticated, open) sends.
  send(action, payload) {
    if (!this.socket || this.socket.readyState !== WebSocket.OPEN || this.state !== "live") return false;
    this.socket.send(JSON.stringify({ action, payload }));
    return true;
  }

  ask(topic) {
    if (this.send("subscribe", { topic })) this.unacknowledged.add(topic);
  }

  // The server answered a subscribe (subscribed, or an error naming the topic): once none is
  // left unanswered, the pollers fetch what may have changed before the subscriptions began.
  answered(topic) {
    if (this.unacknowledged.delete(topic) && this.unacknowledged.size === 0) this.pollNow();
  }

  pollNow() {
    for (const poller of this.pollers) {
      Promise.resolve().then(poller).catch(() => {});
    }
  }

  connect() {
    if (this.stopped) return;
    const scheme = window.location.protocol === "https:" ? "wss" : "ws";
    let socket;
    try {
      socket = new WebSocket(`${scheme}://${window.location.host}/ws`);
    } catch {
      this.retry();
      return;
    }
    this.socket = socket;
    socket.addEventListener("open", () => {
      socket.send(JSON.stringify({ action: "authenticate", payload: { token: this.token } }));
    });
    socket.addEventListener("message", (event) => this.receive(event.data));
    socket.addEventListener("close", () => {
      if (this.socket === socket) this.socket = null;
      this.retry();
    });
  }

  retry() {
    if (this.stopped) return;
    this.attempts += 1;
    this.setState("polling");
    const delay = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.attempts, 5));
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  receive(data) {
    let frame;
    try {
      frame = JSON.parse(data);
    } catch {
      return;
    }
    const payload = frame.payload || {};
    if (frame.action === "heartbeat") {
      const text = payload.message && payload.message.text;
      if (text === "ping") this.send("heartbeat", { message: { text: "pong" } });
      return;
    }
    if (frame.action === "authenticated") {
      this.authenticated();
      return;
    }
    if (frame.action === "subscribed" || (frame.action === "error" && payload.topic)) {
      this.answered(payload.topic);
      return;
    }
    // publish carries data changes; typing and read are ephemeral signals on the same topics;
    // mention tells an agent a private note named it (on its own member topic).
    if (!["publish", "typing", "read", "mention"].includes(frame.action)) return;
    for (const handler of this.handlers.get(payload.topic) || []) handler(payload, frame.action);
  }

  // Subscribing before the server has accepted the token would close the socket. With no
  // topic to ask for, a recovering page catches up at once.
  authenticated() {
    const recovering = this.attempts > 0;
    this.attempts = 0;
    this.setState("live");
    this.unacknowledged.clear();
    for (const topic of this.handlers.keys()) this.ask(topic);
    if (recovering && this.unacknowledged.size === 0) this.pollNow();
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }
}

// The items a publish carries: `message` is a list in Tiledesk's protocol, tolerate one object.
export function itemsOf(payload) {
  const message = payload.message;
  if (Array.isArray(message)) return message;
  return message ? [message] : [];
}
