// Private notes in a conversation: drawn in the history among the messages (yellow, labelled
// "Private note", with their author), written from the reply box in Note mode, deleted by their
// author or an admin. The server never sends them to the visitor.

import { del, get, post } from "../api.js";
import { h } from "../dom.js";
import { agentName, clock } from "../format.js";

export function notesOf(request) {
  return (request && request.notes) || [];
}

// The thread's note mode and note rendering. `base` is the conversation's API path, `team`
// the project's members as loaded; `onNames` redraws once an author missing from it is known.
export function createNotes(ctx, { base, team, input, onRequest, onError, onNames }) {
  let active = false;
  const looked = new Map();
  const toggle = h("button", { class: "btn note-toggle", type: "button", "aria-pressed": "false",
    title: "Write a private note: only agents see it", onClick: () => setActive(!active) }, "Note");
  const defaultPlaceholder = input.placeholder;

  function setActive(on) {
    active = on;
    toggle.setAttribute("aria-pressed", String(on));
    toggle.classList.toggle("is-on", on);
    input.classList.toggle("note-mode", on);
    input.placeholder = on ? "Private note for agents (@name notifies them)…" : defaultPlaceholder;
    input.focus();
  }

  function authorName(userId) {
    const member = team.find((m) => m.id_user && m.id_user._id === userId);
    if (member) return agentName(member);
    if (!looked.has(userId)) {  // joined after the team was loaded
      looked.set(userId, null);
      get(`/${ctx.pid}/project_users/users/${encodeURIComponent(userId)}`).then(([found]) => {
        if (found) looked.set(userId, agentName(found));
        onNames();
      }).catch(() => {});
    }
    return looked.get(userId) || "An agent";
  }

  async function remove(note) {
    try {
      onRequest(await del(`${base}/notes/${encodeURIComponent(note._id)}`));
    } catch (failure) {
      onError(failure);
    }
  }

  function render(note) {
    const mayDelete = note.createdBy === (ctx.me && ctx.me._id) || ctx.isAdmin;
    return h("div", { class: "message note", dataset: { noteId: note._id } },
      h("div", { class: "note-label" }, "Private note"),
      h("div", { class: "bubble note-bubble" }, note.text),
      h("div", { class: "message-meta" }, `${authorName(note.createdBy)} · ${clock(note.createdAt)}`,
        mayDelete ? h("button", { class: "link-button note-delete", type: "button",
          onClick: () => remove(note) }, "Delete") : null));
  }

  return {
    toggle,
    get active() { return active; },

    // Posts the note; resolves with the conversation as the server now has it.
    add(text) {
      return post(`${base}/notes`, { text });
    },

    // The messages' elements with the notes among them in time order. Notes older than the
    // oldest message on screen wait until scrolling up loads that far.
    interleave(messages, renderMessage, request, hasOlder) {
      const oldest = hasOlder && messages.length ? messages[0].createdAt : null;
      const items = messages.map((m) => [m.createdAt, renderMessage(m)]);
      for (const note of notesOf(request)) {
        if (!oldest || note.createdAt >= oldest) items.push([note.createdAt, render(note)]);
      }
      items.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      return items.map(([, element]) => element);
    },

    // Whether the notes differ between two states of the conversation.
    changed(before, after) {
      const ids = (request) => notesOf(request).map((n) => n._id).join(",");
      return ids(before) !== ids(after);
    },
  };
}
