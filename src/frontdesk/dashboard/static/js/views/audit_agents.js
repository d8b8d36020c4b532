// The agents' actions in the audit log: assignments, closing and reopening, role changes,
// removals and tag deletions, summed up with the agents' names where the team still has them.

import { get } from "../api.js";
import { agentName } from "../format.js";

export const AGENT_TYPES = [
  ["request.assigned", "Conversations assigned"],
  ["request.reassigned", "Conversations reassigned"],
  ["request.closed", "Conversations closed"],
  ["request.reopened", "Conversations reopened"],
  ["member.role_changed", "Role changes"],
  ["member.removed", "Members removed"],
  ["tag.deleted", "Tags deleted"],
  ["tag.removed", "Tags removed"],
];
const KNOWN = new Set(AGENT_TYPES.map(([type]) => type));
const names = new Map();

// Fills the names of the project's agents, for the summaries.
export async function loadAgentNames(pid) {
  const team = await get(`/${pid}/project_users`).catch(() => []);
  for (const member of team) if (member.id_user) names.set(member.id_user._id, agentName(member));
}

const who = (id) => names.get(id) || id || "someone";
const people = (ids) => ((ids || []).length ? ids.map(who).join(", ") : "no one");

export function agentActionSummary(event) {
  if (!KNOWN.has(event.type)) return null;
  const details = event.details || {};
  const by = `by ${who(event.actor)}`;
  switch (event.type) {
    case "request.assigned":
    case "request.reassigned":
      return `${people(details.from)} → ${people(details.to)}, ${by}`;
    case "member.role_changed":
      return `${details.from} → ${details.to}, ${by}`;
    case "member.removed":
      return `was ${details.role}, ${by}`;
    case "tag.deleted":
    case "tag.removed":
      return `“${details.tag}”, ${by}`;
    default:
      return by;
  }
}
