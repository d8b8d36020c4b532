// Canned responses: the manager (an agent's own, and the shared ones admins manage) and the
// picker that typing "/" opens in a conversation's reply box.

import { ApiError, del, get, post, put } from "../api.js";
import { h, replace } from "../dom.js";

export const PLACEHOLDERS = [
  ["{{visitor.firstname}}", "the visitor's first name"],
  ["{{visitor.lastname}}", "the visitor's last name"],
  ["{{visitor.fullname}}", "the visitor's full name"],
  ["{{visitor.email}}", "the visitor's e-mail"],
  ["{{agent.firstname}}", "your first name"],
  ["{{project.name}}", "the project's name"],
  ["{{visitor.email|verified}}", "only from the identity your site signed; left as written otherwise"],
];
const MAX_SHOWN = 8;
// "/" at the start of the box or after a space, then what has been typed since.
const TRIGGER = /(?:^|\s)\/([^\s/]*)$/;

function mayChange(ctx, response) {
  return response.shared ? ctx.isAdmin : response.createdBy === (ctx.me && ctx.me._id);
}

function matching(responses, query) {
  const q = query.toLowerCase();
  const hits = responses.filter((r) => `${r.title} ${r.text}`.toLowerCase().includes(q));
  const starts = (r) => (r.title.toLowerCase().startsWith(q) ? 0 : 1);
  return hits.sort((a, b) => starts(a) - starts(b)).slice(0, MAX_SHOWN);
}

// The "/" picker: filter as you type, arrow keys move, Enter or Tab inserts the response with
// its placeholders filled for this conversation, Esc closes.
export function attachCannedPicker(composer, input, ctx, rid) {
  // chosenEarly: Enter or Tab came while the responses were still loading.
  const state = { responses: null, loading: null, matches: [], index: 0, start: -1, chosenEarly: false,
    typed: 0 };
  const list = h("ul", { class: "canned-picker", role: "listbox", "aria-label": "Canned responses", hidden: true });
  const hint = h("p", { class: "canned-hint", role: "status", hidden: true });
  composer.append(list, hint);

  function load() {
    state.loading = state.loading || get(`/${ctx.pid}/canned`).then((all) => { state.responses = all; })
      .catch(() => { state.loading = null; });
    return state.loading;
  }

  function close() {
    list.hidden = true;
    state.matches = [];
    state.start = -1;
    state.chosenEarly = false;
    state.typed += 1;  // a refresh still waiting for the responses shows nothing
  }

  function render() {
    replace(list, state.matches.length === 0
      ? h("li", { class: "canned-empty muted" }, state.responses && state.responses.length
        ? "No canned response matches" : "No canned responses yet")
      : state.matches.map((response, i) => h("li", {
        class: `canned-option${i === state.index ? " is-active" : ""}`, role: "option",
        "aria-selected": String(i === state.index), dataset: { cannedId: response._id },
        onMousedown: (event) => { event.preventDefault(); choose(response); },
      }, h("strong", {}, response.title || "Untitled"), h("span", { class: "muted" }, response.text))));
    list.hidden = false;
  }

  async function refresh() {
    const before = input.value.slice(0, input.selectionStart);
    const found = TRIGGER.exec(before);
    if (!found) {
      close();
      return;
    }
    state.start = before.length - found[1].length - 1;
    const typed = ++state.typed;
    await load();
    if (typed !== state.typed) return;  // more was typed meanwhile: its own refresh goes on
    if (!state.responses) {  // not loaded: no picker, and Enter sends again
      close();
      return;
    }
    state.matches = matching(state.responses, found[1]);
    state.index = 0;
    render();
    if (state.chosenEarly && state.matches.length) choose(state.matches[0]);
    state.chosenEarly = false;
  }

  async function choose(response) {
    const start = state.start;
    const end = input.selectionStart;
    close();
    let text = response.text;
    let unfilled = [];
    try {
      ({ text, unfilled } = await get(`/${ctx.pid}/canned/${response._id}/fill`, { request_id: rid }));
    } catch {
      unfilled = ["placeholders (the server did not answer)"];
    }
    input.value = input.value.slice(0, start) + text + input.value.slice(end);
    const caret = start + text.length;
    input.setSelectionRange(caret, caret);
    input.focus();
    hint.hidden = unfilled.length === 0;
    hint.textContent = unfilled.length ? `Not filled, check before sending: ${unfilled.join(", ")}` : "";
  }

  input.addEventListener("input", () => { hint.hidden = true; refresh(); });
  input.addEventListener("blur", () => setTimeout(close, 150));
  // Captured on the form, so these keys never reach the reply box's own Enter-to-send.
  composer.addEventListener("keydown", (event) => {
    if (event.target !== input) return;
    if (list.hidden) {
      // "/greet" and Enter typed before the responses arrived: the first match is inserted
      // once they have, instead of the shortcut going out as a reply.
      if (state.start < 0 || (event.key !== "Enter" && event.key !== "Tab")) return;
      state.chosenEarly = true;
      event.preventDefault();
      event.stopPropagation();
      return;
    }
    const moves = { ArrowDown: 1, ArrowUp: -1 };
    if (event.key in moves && state.matches.length) {
      state.index = (state.index + moves[event.key] + state.matches.length) % state.matches.length;
      render();
    } else if ((event.key === "Enter" || event.key === "Tab") && state.matches.length) {
      choose(state.matches[state.index]);
    } else if (event.key === "Escape") {
      close();
    } else {
      return;
    }
    event.preventDefault();
    event.stopPropagation();
  }, true);
}

// The manager: list, create, edit, delete; "Shared with the team" for admins.
export function cannedView(container, ctx) {
  ctx.setTitle("Canned responses");
  const state = { responses: [], editing: null, error: null };

  async function load() {
    state.responses = await get(`/${ctx.pid}/canned`);
    render();
  }

  async function save(form) {
    const data = new FormData(form);
    const body = { title: String(data.get("title") || ""), text: String(data.get("text") || "") };
    if (ctx.isAdmin) body.shared = data.get("shared") === "on";
    state.error = null;
    try {
      if (state.editing) await put(`/${ctx.pid}/canned/${state.editing._id}`, body);
      else await post(`/${ctx.pid}/canned`, body);
      state.editing = null;
      await load();
    } catch (failure) {
      state.error = failure instanceof ApiError ? failure.message : "Could not reach the server.";
      render();
    }
  }

  async function remove(response) {
    if (!window.confirm(`Delete "${response.title || "Untitled"}"?`)) return;
    try {
      await del(`/${ctx.pid}/canned/${response._id}`);
      await load();
    } catch (failure) {
      state.error = failure instanceof ApiError ? failure.message : "Could not reach the server.";
      render();
    }
  }

  function editor() {
    const editing = state.editing;
    return h("form", { class: "card canned-form", onSubmit: (event) => { event.preventDefault(); save(event.target); } },
      h("h2", { class: "card-title" }, editing ? "Edit canned response" : "New canned response"),
      h("label", { class: "form-field" }, h("span", {}, "Title"),
        h("input", { type: "text", name: "title", maxlength: 200, value: editing ? editing.title : "",
          placeholder: "What you type after / to find it" })),
      h("label", { class: "form-field" }, h("span", {}, "Text"),
        h("textarea", { name: "text", rows: 4, required: true, maxlength: 8192,
          value: editing ? editing.text : "" })),
      ctx.isAdmin ? h("label", { class: "choice" }, h("input", { type: "checkbox", name: "shared",
        checked: editing ? editing.shared : false }), h("span", {}, "Shared with the whole team")) : null,
      h("details", { class: "canned-placeholders" }, h("summary", {}, "Placeholders"),
        h("dl", { class: "kvs" }, PLACEHOLDERS.map(([code, meaning]) =>
          h("div", { class: "kv" }, h("dt", {}, h("code", {}, code)), h("dd", {}, meaning))))),
      state.error ? h("p", { class: "form-error", role: "alert" }, state.error) : null,
      h("div", { class: "row" },
        h("button", { class: "btn btn-primary", type: "submit" }, editing ? "Save" : "Add"),
        editing ? h("button", { class: "btn", type: "button",
          onClick: () => { state.editing = null; state.error = null; render(); } }, "Cancel") : null));
  }

  function row(response) {
    const changeable = mayChange(ctx, response);
    return h("li", { class: "canned-item", dataset: { cannedId: response._id } },
      h("div", { class: "canned-item-head" },
        h("strong", {}, response.title || "Untitled"),
        h("span", { class: `pill ${response.shared ? "pill-shared" : "pill-own"}` }, response.shared ? "Shared" : "Yours"),
        changeable ? h("button", { class: "btn btn-small", type: "button",
          onClick: () => { state.editing = response; state.error = null; render(); } }, "Edit") : null,
        changeable ? h("button", { class: "btn btn-small btn-danger", type: "button", onClick: () => remove(response) }, "Delete") : null),
      h("p", { class: "canned-text" }, response.text));
  }

  function render() {
    replace(container, h("div", { class: "page canned" },
      h("header", { class: "page-header" }, h("div", {},
        h("h1", { class: "page-title" }, "Canned responses"),
        h("p", { class: "muted" }, "Type / in a reply box to insert one. Yours are yours alone; shared ones are the team's, and admins manage them."))),
      editor(),
      h("section", { class: "card" }, h("h2", { class: "card-title" }, "Your responses and the team's"),
        state.responses.length === 0 ? h("p", { class: "muted" }, "None yet.")
          : h("ul", { class: "canned-list" }, state.responses.map(row)))));
  }

  load().catch((failure) => replace(container, h("p", { class: "notice notice-error" }, failure.message)));
  return {};
}
