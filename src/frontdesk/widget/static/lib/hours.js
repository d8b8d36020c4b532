// Open or closed: what the widget says before and while a visitor writes, from the server's
// availability answer (opening hours, agents available, expected reply time). The visitor can
// always write; when nobody can answer now, the widget offers to confirm an e-mail address so
// the answer can reach them later.

import { h } from "./dom.js";

// "open" (agents available), "away" (open, nobody available) or "closed" (outside hours).
export function availabilityState(availability) {
  if (!availability) return "open";
  if (!availability.isopen) return "closed";
  return availability.availableAgents > 0 ? "open" : "away";
}

export function replyTimeText(availability) {
  const state = availabilityState(availability);
  if (state === "closed") {
    const next = availability.nextOpenAt ? openingText(availability.nextOpenAt) : null;
    return next ? `Closed now · we reply ${next}` : "Closed now · we reply when we are back";
  }
  if (state === "away") return "Nobody is available now · we reply as soon as someone is back";
  const minutes = availability && availability.expectedReplyMinutes;
  if (!minutes) return "We usually reply in a few minutes";
  return minutes < 60 ? `We usually reply in ${minutes} minute${minutes === 1 ? "" : "s"}`
    : `We usually reply in ${Math.round(minutes / 60)} hour${Math.round(minutes / 60) === 1 ? "" : "s"}`;
}

function replyWhen(availability) {
  const next = availability.isopen ? null : availability.nextOpenAt && openingText(availability.nextOpenAt);
  if (next) return `We reply ${next}.`;
  return availability.isopen ? "We reply as soon as someone is back." : "We reply when we are back.";
}

// "today at 09:00", "tomorrow at 09:00" or "on Monday at 09:00", in the visitor's own time.
export function openingText(iso, now = new Date()) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return null;
  const time = at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const days = Math.round((startOfDay(at) - startOfDay(now)) / 86400000);
  if (days <= 0) return `today at ${time}`;
  if (days === 1) return `tomorrow at ${time}`;
  return `on ${at.toLocaleDateString([], { weekday: "long" })} at ${time}`;
}

function startOfDay(date) {
  return new Date(date.getFullYear(), date.getMonth(), date.getDate()).getTime();
}

// The home screen's card when nobody can answer now; null while agents are there.
//   canProveEmail: e-mail can be sent and the visitor has no proven address yet.
export function offHoursCard(availability, { canProveEmail, onProveEmail }) {
  const state = availabilityState(availability);
  if (state === "open") return null;
  return h("div", { class: `card hours hours-${state}`, role: "status", "data-availability": state },
    h("h3", {}, h("span", { class: "hours-dot", "aria-hidden": "true" }),
      state === "closed" ? "We are closed right now" : "Nobody is available right now"),
    h("p", { text: replyWhen(availability) }),
    h("p", { text: "You can still write to us: your message waits for the team." }),
    canProveEmail ? h("button", { class: "secondary", type: "button", onclick: onProveEmail },
      "Get the answer by e-mail") : null);
}

// Above the composer when nobody can answer now: the offer to get the answer by e-mail (the
// header already says when the team is back).
export function offHoursNotice(availability, { canProveEmail, onProveEmail }) {
  const state = availabilityState(availability);
  if (state === "open" || !canProveEmail) return null;
  return h("div", { class: "hours-notice", role: "status", "data-availability": state },
    h("span", { text: "Leaving? Confirm your e-mail and the answer will reach you there." }),
    h("button", { class: "link", type: "button", onclick: onProveEmail }, "Get the answer by e-mail"));
}
