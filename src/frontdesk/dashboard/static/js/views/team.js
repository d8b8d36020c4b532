// The team: members with roles and availability, invitations.

import { ApiError, get, post, put } from "../api.js";
import { h, replace } from "../dom.js";
import { agentName } from "../format.js";
import { avatar } from "../identity.js";

const ROLES = ["owner", "admin", "agent"];

export function teamView(container, ctx) {
  ctx.setTitle("Team");
  const state = { members: [], invites: [] };

  async function load() {
    const [members, invites] = await Promise.all([
      get(`/${ctx.pid}/project_users`), ctx.isAdmin ? get(`/${ctx.pid}/project_users/invites`) : [],
    ]);
    Object.assign(state, { members, invites });
    render();
  }

  function render() {
    replace(container, h("div", { class: "page" },
      h("header", { class: "page-header" }, h("div", {}, h("h1", { class: "page-title" }, "Team"),
        h("p", { class: "muted" }, `${state.members.length} member${state.members.length === 1 ? "" : "s"}`))),
      h("section", { class: "card table-card" }, h("table", { class: "table team-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Member"), h("th", {}, "Role"), h("th", {}, "Availability"))),
        h("tbody", {}, state.members.map(memberRow)))),
      ctx.isAdmin ? inviteCard() : null));
  }

  function memberRow(member) {
    const user = member.id_user || {};
    const isMe = ctx.me && user._id === ctx.me._id;
    const roleCell = ctx.isAdmin && !isMe && member.role !== "owner"
      ? h("select", { class: "select", "aria-label": `Role of ${agentName(member)}`, onChange: async (event) => {
        await put(`/${ctx.pid}/project_users/${member._id}`, { role: event.target.value });
        await load();
      } }, ROLES.filter((r) => r !== "owner").map((role) => h("option", { value: role, selected: role === member.role }, role)))
      : h("span", { class: "pill" }, member.role);
    const availability = isMe
      ? h("label", { class: "availability availability-inline" },
        h("input", { type: "checkbox", checked: member.user_available, onChange: async (event) => {
          await put(`/${ctx.pid}/project_users`, { user_available: event.target.checked });
          await load();
        } }), h("span", { class: "toggle" }), h("span", {}, member.user_available ? "Available" : "Away"))
      : h("span", { class: `presence ${member.user_available ? "is-available" : "is-away"}` },
        member.user_available ? "Available" : "Away");
    return h("tr", { dataset: { member: user.email || "" } },
      h("td", {}, h("div", { class: "contact-cell" }, avatar(agentName(member), { seed: user._id, size: "sm" }),
        h("div", {}, h("div", { class: "contact-name" }, agentName(member), isMe ? h("span", { class: "muted" }, " (you)") : null),
          h("div", { class: "muted" }, user.email || "")))),
      h("td", {}, roleCell), h("td", {}, availability));
  }

  function inviteCard() {
    const email = h("input", { type: "email", required: true, placeholder: "colleague@company.com", "aria-label": "Email to invite" });
    const role = h("select", { class: "select", "aria-label": "Role" }, ["agent", "admin"].map((r) => h("option", { value: r }, r)));
    const message = h("p", { class: "form-note", role: "status", hidden: true });
    return h("section", { class: "card" },
      h("h2", { class: "card-title" }, "Invite a teammate"),
      h("form", { class: "row", onSubmit: async (event) => {
        event.preventDefault();
        try {
          const result = await post(`/${ctx.pid}/project_users/invite`, { email: email.value.trim(), role: role.value });
          await load();
          const note = container.querySelector(".form-note");
          note.textContent = result.pending
            ? `Invitation saved: ${result.email} joins as ${result.role} when they sign up.`
            : `${result.email} is now a member (${result.role}).`;
          note.hidden = false;
        } catch (failure) {
          message.textContent = failure instanceof ApiError ? failure.message : "Could not invite.";
          message.hidden = false;
        }
      } }, email, role, h("button", { class: "btn btn-primary", type: "submit" }, "Invite")),
      message,
      state.invites.length ? h("div", {}, h("h3", { class: "sub-title" }, "Pending invitations"),
        h("ul", { class: "simple-list" }, state.invites.map((invite) => h("li", { class: "simple-row" },
          h("span", { class: "simple-main" }, invite.email), h("span", { class: "pill" }, invite.role))))) : null);
  }

  load().catch((failure) => replace(container, h("p", { class: "page" }, failure.message)));
  return {};
}
