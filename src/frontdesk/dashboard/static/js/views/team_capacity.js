// The most conversations a member is assigned at once (max_assigned_chat): admins edit it in
// the team table, everyone sees it. Empty means no limit; lowering it reassigns nothing,
// raising it lets waiting conversations through at once.

import { ApiError, put } from "../api.js";
import { h } from "../dom.js";
import { agentName } from "../format.js";

export const capacityHeader = () => h("th", {}, "Max chats");

export function capacityCell(member, ctx, reload) {
  const limit = member.max_assigned_chat;
  if (!ctx.isAdmin) return h("td", {}, h("span", { class: "muted" }, limit === null || limit === undefined ? "No limit" : String(limit)));
  const error = h("span", { class: "form-error", role: "alert", hidden: true });
  const input = h("input", {
    type: "number", min: "0", max: "1000", step: "1", class: "input capacity-input", placeholder: "No limit",
    value: limit === null || limit === undefined ? "" : String(limit),
    "aria-label": `Most open conversations for ${agentName(member)}`,
    onChange: async (event) => {
      const raw = event.target.value.trim();
      error.hidden = true;
      try {
        await put(`/${ctx.pid}/project_users/${member._id}`, { max_assigned_chat: raw === "" ? -1 : Number(raw) });
        await reload();
      } catch (failure) {
        error.textContent = failure instanceof ApiError ? failure.message : "Could not save.";
        error.hidden = false;
      }
    },
  });
  return h("td", {}, input, error);
}
