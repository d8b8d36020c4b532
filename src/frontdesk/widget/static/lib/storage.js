// Where the widget keeps its session token and what the visitor typed about themselves.
// Keys are scoped by project, so two frontdesk projects on one site never share a visitor.
// `persistence`: "local" (default, survives restarts), "session" (this tab), "memory"/"none".

class MemoryStorage {
  constructor() {
    this.items = new Map();
  }
  getItem(key) {
    return this.items.has(key) ? this.items.get(key) : null;
  }
  setItem(key, value) {
    this.items.set(key, String(value));
  }
  removeItem(key) {
    this.items.delete(key);
  }
}

function pickBackend(persistence) {
  try {
    if (persistence === "session") return window.sessionStorage;
    if (persistence === "memory" || persistence === "none") return new MemoryStorage();
    return window.localStorage;
  } catch (error) {
    // Storage can be refused (privacy modes, sandboxed frames): keep the session for this page.
    return new MemoryStorage();
  }
}

export class VisitorStorage {
  constructor(projectId, persistence) {
    this.backend = pickBackend(persistence);
    this.prefix = `frontdesk:${projectId}:`;
  }

  read(name) {
    try {
      return this.backend.getItem(this.prefix + name);
    } catch (error) {
      return null;
    }
  }

  write(name, value) {
    try {
      this.backend.setItem(this.prefix + name, value);
    } catch (error) {
      // Quota or privacy mode: the session still works until the page closes.
    }
  }

  remove(name) {
    try {
      this.backend.removeItem(this.prefix + name);
    } catch (error) {
      // Nothing stored, nothing to remove.
    }
  }

  get token() {
    return this.read("token");
  }
  set token(value) {
    if (value) this.write("token", value);
    else this.remove("token");
  }

  // Self-reported name and email (pre-chat form), never trusted by the server.
  get profile() {
    try {
      return JSON.parse(this.read("profile") || "null");
    } catch (error) {
      return null;
    }
  }
  set profile(value) {
    if (value) this.write("profile", JSON.stringify(value));
    else this.remove("profile");
  }

  clear() {
    this.remove("token");
    this.remove("profile");
  }
}
