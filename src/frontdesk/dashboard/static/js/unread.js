// Unread counts: the visitor's messages since this agent last read each conversation. The
// server keeps the read markers (PUT /:pid/requests/:rid/read) and sends the counts with the
// list, so every browser of the agent shows the same ones; a marker moved in another browser
// arrives on the agent's own member topic (markerChanged).
//
// A list and a marker can cross on the way: a list asked for before a marker's answer (or its
// event) came may have been read before the marker moved. Such a list does not overrule that
// conversation's count; one asked for after it does (the server answers once it committed).

import { put } from "./api.js";
import { RequestStatus } from "./status.js";

export class UnreadTracker {
  constructor(pid, onChange) {
    this.pid = pid;
    this.onChange = onChange;
    this.counts = new Map();
    this.tick = 0; // orders list requests and marker answers
    this.markedAt = new Map(); // request_id -> tick of its latest marker (Infinity in flight)
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

  // Call just before asking for a list; give what it returned to fromList.
  listAsked() {
    return ++this.tick;
  }

  // The counts of the list on screen (the navigation badge adds them up).
  fromList(requests, asked) {
    const counts = new Map();
    for (const request of requests) {
      const rid = request.request_id;
      const closed = request.status === RequestStatus.CLOSED;
      const newer = (this.markedAt.get(rid) ?? 0) > asked && this.counts.has(rid);
      counts.set(rid, newer ? this.counts.get(rid) : closed ? 0 : request.unread || 0);
    }
    this.counts = counts;
  }

  markerChanged(marker) {
    this.counts.set(marker.request_id, marker.unread);
    this.markedAt.set(marker.request_id, ++this.tick);
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
    this.markedAt.set(rid, Infinity);
    put(`/${this.pid}/requests/${encodeURIComponent(rid)}/read`, { message_id: lastMessage._id })
      .then((marker) => this.counts.set(rid, marker.unread))
      .catch(() => this.marked.delete(rid))
      .finally(() => {
        this.markedAt.set(rid, ++this.tick);
        this.onChange();
      });
  }

  get total() {
    let sum = 0;
    for (const n of this.counts.values()) sum += n;
    return sum;
  }

  destroy() {
    this.onChange = () => {}; // answers still on their way redraw nothing
    document.removeEventListener("visibilitychange", this.onVisible);
  }
}
