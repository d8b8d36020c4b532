// Unread counts: the visitor's messages since this agent last read each conversation. The
// server keeps the read markers (PUT /:pid/requests/:rid/read) and sends the counts with the
// list, so every browser of the agent shows the same ones; a marker moved in another browser
// arrives on the agent's own member topic (markerChanged).

import { put } from "./api.js";
import { RequestStatus } from "./status.js";

export class UnreadTracker {
  constructor(pid) {
    this.pid = pid;
    this.counts = new Map();
    this.marked = new Map(); // request_id -> id of the last message this tab marked read
    this.pending = new Map(); // seen while the page was hidden: marked once it shows
    this.onVisible = () => {
      if (document.visibilityState !== "visible") return;
      const pending = [...this.pending];
      this.pending.clear();
      for (const [rid, message] of pending) this.markSeen(rid, message);
    };
    document.addEventListener("visibilitychange", this.onVisible);
  }

  // The counts of the list on screen (the navigation badge adds them up).
  fromList(requests) {
    this.counts.clear();
    for (const request of requests) {
      const closed = request.status === RequestStatus.CLOSED;
      this.counts.set(request.request_id, closed ? 0 : request.unread || 0);
    }
  }

  markerChanged(marker) {
    this.counts.set(marker.request_id, marker.unread);
  }

  // The agent has the conversation open and its newest message on screen.
  markSeen(rid, lastMessage) {
    if (!lastMessage || !lastMessage._id || this.marked.get(rid) === lastMessage._id) return;
    if (document.visibilityState === "hidden") {
      this.pending.set(rid, lastMessage); // on screen, but nobody is looking
      return;
    }
    this.marked.set(rid, lastMessage._id);
    this.counts.set(rid, 0);
    put(`/${this.pid}/requests/${encodeURIComponent(rid)}/read`, { message_id: lastMessage._id })
      .then((marker) => this.counts.set(rid, marker.unread))
      .catch(() => this.marked.delete(rid));
  }

  get total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  destroy() {
    document.removeEventListener("visibilitychange", this.onVisible);
  }
}
