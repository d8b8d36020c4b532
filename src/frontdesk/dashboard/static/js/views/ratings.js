// Ratings: the stars and words a visitor gave a conversation, and the project's average.

import { get } from "../api.js";
import { h, replace } from "../dom.js";

const MAX = 5;

export function ratingStars(rating) {
  const value = Math.max(0, Math.min(MAX, Number(rating) || 0));
  return h("span", { class: "rating-stars", role: "img", "aria-label": `${value} out of ${MAX} stars`,
    dataset: { rating: String(value) } },
  Array.from({ length: MAX }, (_, i) => h("span", { class: i < value ? "star is-on" : "star" }, "★")));
}

const rated = (request) => request && request.rating !== null && request.rating !== undefined;

// What the visitor thought, for a closed conversation (null while it is open and unrated).
export function ratingBlock(request, { closed }) {
  if (!rated(request)) {
    return closed ? h("p", { class: "rating rating-none muted" }, "The visitor has not rated this conversation.") : null;
  }
  return h("div", { class: "rating", dataset: { rating: String(request.rating) } },
    ratingStars(request.rating),
    request.rating_message ? h("q", { class: "rating-message" }, request.rating_message) : null);
}

export function ratingCard(request, { closed }) {
  const block = ratingBlock(request, { closed });
  if (!block) return null;
  return h("section", { class: "panel-card rating-card" }, h("h3", { class: "panel-title" }, "Rating"), block);
}

// The ratings of a contact's conversations, summed up.
export function contactRatings(requests) {
  const ratings = requests.filter(rated).map((r) => Number(r.rating));
  if (ratings.length === 0) return null;
  const average = ratings.reduce((a, b) => a + b, 0) / ratings.length;
  return h("div", { class: "rating-summary" }, ratingStars(Math.round(average)),
    h("span", {}, `${average.toFixed(1)} from ${ratings.length} rating${ratings.length === 1 ? "" : "s"}`));
}

// The project's average and count (GET /:pid/ratings); `refresh()` reads them again.
export function projectRatings(ctx) {
  const element = h("div", { class: "rating-summary project-ratings", "aria-live": "polite" });
  async function refresh() {
    try {
      const summary = await get(`/${ctx.pid}/ratings`);
      replace(element, summary.count === 0 ? h("span", { class: "muted" }, "No ratings yet")
        : [h("span", { class: "star is-on", "aria-hidden": "true" }, "★"),
          h("strong", {}, summary.average.toFixed(2)),
          h("span", { class: "muted" }, `average of ${summary.count} rating${summary.count === 1 ? "" : "s"}`)]);
    } catch {
      replace(element);
    }
  }
  refresh();
  return { element, refresh };
}
