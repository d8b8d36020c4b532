// Unread counts: what the visitor wrote since this agent last had the conversation open.
// "Seen" marks live in localStorage per project and agent, so they survive reloads.

import { get } from "./api.js";
import { RequestStatus } from "./status.js";

export class UnreadTracker {
  constructor(pid, userId) {
    this.pid = pid;
    this.key = `frontdesk.dashboard.seen.${pid}.${userId}`;
    this.seen = this.load();
    this.counts = new Map();
    this.cache = new Map();
  }

  load() {
    try {
      return JSON.parse(localStorage.getItem(this.key) || "{}");
    } catch {
      return {};
    }
  }

  markSeen(rid, lastMessage) {
    if (!lastMessage) return;
    const previous = this.seen[rid];
    if (previous && previous.at >= lastMessage.createdAt) return;
    this.seen[rid] = { at: lastMessage.createdAt, id: lastMessage._id };
    localStorage.setItem(this.key, JSON.stringify(this.seen));
    this.counts.set(rid, 0);
  }

  async count(request) {
    const rid = request.request_id;
    if (request.status === RequestStatus.CLOSED) {
      this.counts.delete(rid);
      return 0;
    }
    const seen = this.seen[rid];
    if (seen && request.updatedAt <= seen.at) {
      this.counts.set(rid, 0);
      return 0;
    }
    const cacheKey = `${rid}@${request.updatedAt}@${seen ? seen.id : ""}`;
    if (!this.cache.has(cacheKey)) {
      const query = seen ? { after: seen.id, limit: 100 } : { latest: "true", limit: 100 };
      this.cache.set(cacheKey, get(`/${this.pid}/requests/${encodeURIComponent(rid)}/messages`, query)
        .then((messages) => messages.filter((m) => m.senderKind === "visitor").length)
        .catch(() => 0));
    }
    const n = await this.cache.get(cacheKey);
    this.counts.set(rid, n);
    return n;
  }

  get total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }
}
