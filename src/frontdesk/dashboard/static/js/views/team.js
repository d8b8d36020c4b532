// The team: members with roles and availability, invitations. An invitation's accept link is
// shown once, right after inviting; the server keeps only a hash of its token.

import { ApiError, del, get, post, put } from "../api.js";
import { h, replace } from "../dom.js";
import { agentName } from "../format.js";
import { avatar } from "../identity.js";
import { capacityCell, capacityHeader } from "./team_capacity.js";

const ROLES = ["owner", "admin", "agent"];

export function teamView(container, ctx) {
  ctx.setTitle("Team");
  const state = { members: [], invites: [], issued: null };

  async function load() {
    const [members, invites] = await Promise.all([
      get(`/${ctx.pid}/project_users`), ctx.isAdmin ? get(`/${ctx.pid}/invitations`) : [],
    ]);
    Object.assign(state, { members, invites });
    render();
  }

  function render() {
    replace(container, h("div", { class: "page" },
      h("header", { class: "page-header" }, h("div", {}, h("h1", { class: "page-title" }, "Team"),
        h("p", { class: "muted" }, `${state.members.length} member${state.members.length === 1 ? "" : "s"}`))),
      h("section", { class: "card table-card" }, h("table", { class: "table team-table" },
        h("thead", {}, h("tr", {}, h("th", {}, "Member"), h("th", {}, "Role"), h("th", {}, "Availability"), capacityHeader())),
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
      h("td", {}, roleCell), h("td", {}, availability), capacityCell(member, ctx, load));
  }

  function inviteCard() {
    const email = h("input", { type: "email", required: true, placeholder: "colleague@company.com", "aria-label": "Email to invite" });
    const role = h("select", { class: "select", "aria-label": "Role" }, ["agent", "admin"].map((r) => h("option", { value: r }, r)));
    const message = h("p", { class: "form-error", role: "alert", hidden: true });
    return h("section", { class: "card" },
      h("h2", { class: "card-title" }, "Invite a teammate"),
      h("form", { class: "row", onSubmit: async (event) => {
        event.preventDefault();
        try {
          state.issued = await post(`/${ctx.pid}/project_users/invite`, { email: email.value.trim(), role: role.value });
          await load();
        } catch (failure) {
          message.textContent = failure instanceof ApiError ? failure.message : "Could not invite.";
          message.hidden = false;
        }
      } }, email, role, h("button", { class: "btn btn-primary", type: "submit" }, "Invite")),
      message,
      state.issued ? issuedLink(state.issued) : null,
      state.invites.length ? h("div", {}, h("h3", { class: "sub-title" }, "Pending invitations"),
        h("ul", { class: "simple-list invitations" }, state.invites.map(invitationRow))) : null);
  }

  function issuedLink(issued) {
    const link = h("input", { type: "text", readonly: true, value: issued.acceptUrl, "aria-label": "Invitation link" });
    const copied = h("span", { class: "muted", role: "status" });
    const expires = new Date(issued.invitation.expiresAt).toLocaleString();
    return h("div", { class: "invitation-link" },
      h("p", { class: "form-note" }, `Invitation created: send this link to ${issued.email}. `
        + `They join as ${issued.role} by opening it and signing in (or up) with that address. `
        + `It works once, until ${expires}, and is shown only now.`),
      h("div", { class: "row" }, link, h("button", { class: "btn", type: "button", onClick: async () => {
        link.select();
        try {
          await navigator.clipboard.writeText(issued.acceptUrl);
          copied.textContent = "Copied.";
        } catch {
          copied.textContent = "Press Ctrl+C (⌘C) to copy the selected link.";
        }
      } }, "Copy link"), copied));
  }

  function invitationRow(invite) {
    const note = { expired: "link expired: invite again", unsent: "no link yet: invite again" }[invite.status];
    return h("li", { class: "simple-row", dataset: { invitation: invite.email } },
      h("span", { class: "simple-main" }, invite.email),
      note ? h("span", { class: "muted" }, note) : null,
      h("span", { class: "pill" }, invite.role),
      h("button", { class: "btn btn-small btn-ghost", type: "button", "aria-label": `Withdraw the invitation of ${invite.email}`,
        onClick: async () => {
          await del(`/${ctx.pid}/invitations/${invite._id}`);
          if (state.issued && state.issued.invitation._id === invite._id) state.issued = null;
          await load();
        } }, "Withdraw"));
  }

  load().catch((failure) => replace(container, h("p", { class: "page" }, failure.message)));
  return {};
}
