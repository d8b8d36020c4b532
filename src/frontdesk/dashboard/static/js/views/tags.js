// Tags: chips, the tag editors of a conversation and of a contact, the project's tag library
// (a settings card) and the tag filter of the conversation list. A chip's colour is used only
// when it is a hex colour, set as a CSS variable: a colour string never reaches markup.

import { ApiError, del, get, post, put } from "../api.js";
import { h, replace } from "../dom.js";

const HEX = /^#[0-9a-f]{3}([0-9a-f]{3})?$/i;
export const DEFAULT_TAG_COLOR = "#43b1f2";
const libraries = new Map();

// The project's tag library, loaded once per project and again after it changes.
export function loadLibrary(pid, { fresh = false } = {}) {
  if (fresh || !libraries.has(pid)) {
    const loading = get(`/${pid}/tags`).catch(() => []);
    libraries.set(pid, loading);
  }
  return libraries.get(pid);
}

export const tagName = (tag) => String((tag && typeof tag === "object" ? tag.tag : tag) ?? "");
const tagId = (tag) => (tag && typeof tag === "object" ? tag._id || tag.tag : String(tag));

function colorOf(tag, library) {
  const own = tag && typeof tag === "object" ? tag.color : null;
  if (own && HEX.test(own)) return own;
  const known = (library || []).find((t) => t.tag === tagName(tag));
  return known && HEX.test(known.color || "") ? known.color : null;
}

export function tagChip(tag, { library = [], onRemove = null } = {}) {
  const name = tagName(tag);
  const chip = h("span", { class: "tag-chip", dataset: { tag: name } },
    h("span", { class: "tag-dot", "aria-hidden": "true" }),
    h("span", { class: "tag-name" }, name),
    onRemove ? h("button", { type: "button", class: "tag-remove", "aria-label": `Remove tag ${name}`,
      title: "Remove", onClick: onRemove }, "×") : null);
  const color = colorOf(tag, library);
  if (color) chip.style.setProperty("--tag-color", color);
  return chip;
}

export function tagChips(tags, options = {}) {
  const list = tags || [];
  if (list.length === 0) return null;
  return h("span", { class: "tag-chips" }, list.map((tag) => tagChip(tag, options)));
}

// An editor of a list of tags: chips with remove buttons and an input suggesting the library.
// `add(name, libraryTag)` and `remove(tag)` call the API and answer the new tags.
function tagEditor(ctx, { label, add, remove }) {
  const state = { tags: [], library: [] };
  const chips = h("div", { class: "tag-chips tag-editor-chips" });
  const listId = `tag-library-${Math.random().toString(36).slice(2)}`;
  const suggestions = h("datalist", { id: listId });
  // No slash: a tag is removed by its name in a path.
  const input = h("input", { type: "text", class: "tag-input", maxlength: 100, list: listId,
    pattern: "[^/]+", title: "A tag's name, without a slash", placeholder: "Add a tag…", "aria-label": label });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const form = h("form", { class: "tag-add", onSubmit: (event) => { event.preventDefault(); submit(); } },
    input, h("button", { class: "btn btn-small", type: "submit" }, "Add"), suggestions);

  async function submit() {
    const name = input.value.trim();
    if (!name) return;
    error.hidden = true;
    try {
      let known = state.library.find((t) => t.tag === name);
      if (!known) {
        known = await post(`/${ctx.pid}/tags`, { tag: name, color: DEFAULT_TAG_COLOR });
        state.library = await loadLibrary(ctx.pid, { fresh: true });
      }
      input.value = "";
      show(await add(name, known));
    } catch (failure) {
      showError(failure);
    }
  }

  async function drop(tag) {
    error.hidden = true;
    try {
      show(await remove(tag));
    } catch (failure) {
      showError(failure);
    }
  }

  function showError(failure) {
    error.textContent = failure instanceof ApiError ? failure.message : "Could not reach the server.";
    error.hidden = false;
  }

  function show(tags) {
    state.tags = tags || [];
    replace(chips, state.tags.length
      ? state.tags.map((tag) => tagChip(tag, { library: state.library, onRemove: () => drop(tag) }))
      : h("span", { class: "muted" }, "No tags"));
    replace(suggestions, state.library.filter((t) => !state.tags.some((own) => tagName(own) === t.tag))
      .map((t) => h("option", { value: t.tag })));
  }

  loadLibrary(ctx.pid).then((library) => { state.library = library; show(state.tags); });
  return { element: h("div", { class: "tag-editor" }, chips, form, error), show };
}

// The tags of one conversation, for its side panel; `onChanged(request)` gets the answer.
export function requestTagEditor(ctx, rid, onChanged) {
  const base = `/${ctx.pid}/requests/${encodeURIComponent(rid)}/tag`;
  const editor = tagEditor(ctx, {
    label: "Add a tag to this conversation",
    add: async (name, known) => changed(await put(base, [{ tag: name, color: (known && known.color) || DEFAULT_TAG_COLOR }])),
    remove: async (tag) => changed(await del(`${base}/${encodeURIComponent(tagId(tag))}`)),
  });
  function changed(request) {
    onChanged(request);
    return request.tags;
  }
  return {
    element: h("section", { class: "panel-card tags-card" }, h("h3", { class: "panel-title" }, "Tags"), editor.element),
    update: (request) => editor.show(request.tags),
  };
}

// The tags of a contact, for its page.
export function leadTagsCard(ctx, lead) {
  const base = `/${ctx.pid}/leads/${encodeURIComponent(lead._id)}/tag`;
  const editor = tagEditor(ctx, {
    label: "Add a tag to this contact",
    add: async (name) => (await put(base, [name])).tags,
    remove: async (tag) => (await del(`${base}/${encodeURIComponent(tagName(tag))}`)).tags,
  });
  editor.show(lead.tags);
  return h("section", { class: "card tags-card" }, h("h2", { class: "card-title" }, "Tags"), editor.element);
}

// The contact's tags, read-only, in a conversation's side panel.
export function leadTagsLine(ctx, lead) {
  if (!lead || !(lead.tags || []).length) return null;
  const line = h("div", { class: "lead-tags" }, h("span", { class: "muted" }, "Contact tags"), tagChips(lead.tags));
  loadLibrary(ctx.pid).then((library) => replace(line, h("span", { class: "muted" }, "Contact tags"),
    tagChips(lead.tags, { library })));
  return line;
}

// The project's tag library, for settings: everyone sees it, agents add, admins delete.
export function tagLibraryCard(ctx) {
  const list = h("div", { class: "tag-chips tag-library" }, h("span", { class: "muted" }, "Loading…"));
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const name = h("input", { type: "text", maxlength: 100, required: true, placeholder: "e.g. refund",
    pattern: "[^/]+", title: "A tag's name, without a slash", "aria-label": "Tag name" });
  const color = h("input", { type: "color", value: DEFAULT_TAG_COLOR, class: "tag-color-input", "aria-label": "Tag colour" });

  async function refresh() {
    const library = await loadLibrary(ctx.pid, { fresh: true });
    replace(list, library.length ? library.map((tag) => tagChip(tag, {
      onRemove: ctx.isAdmin ? () => removeTag(tag) : null,
    })) : h("span", { class: "muted" }, "No tags yet."));
  }

  async function run(action) {
    error.hidden = true;
    try {
      await action();
      await refresh();
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? failure.message : "Could not reach the server.";
      error.hidden = false;
    }
  }

  const removeTag = (tag) => run(() => del(`/${ctx.pid}/tags/${tag._id}`));
  const form = h("form", { class: "row", onSubmit: (event) => {
    event.preventDefault();
    run(async () => {
      await post(`/${ctx.pid}/tags`, { tag: name.value.trim(), color: color.value });
      name.value = "";
    });
  } }, name, color, h("button", { class: "btn", type: "submit" }, "Add tag"));

  refresh();
  return h("section", { class: "card", id: "tags" },
    h("h2", { class: "card-title" }, "Tags"),
    h("p", { class: "muted" }, ctx.isAdmin
      ? "Tags agents put on conversations and contacts. Deleting one here leaves the conversations tagged with it as they are."
      : "Tags agents put on conversations and contacts. Owners and admins can delete them."),
    list, form, error);
}

// The tag filter of the conversation list: `onChange(name)` with a tag's name, or undefined;
// `refresh()` reads the library again (another agent may have added a tag).
export function tagFilter(ctx, onChange) {
  const select = h("select", { class: "select tag-filter", "aria-label": "Filter by tag",
    onChange: () => onChange(select.value || undefined) });
  async function fill() {
    const chosen = select.value;
    const library = await loadLibrary(ctx.pid, { fresh: true });
    replace(select, h("option", { value: "" }, "All tags"),
      library.map((tag) => h("option", { value: tag.tag, selected: tag.tag === chosen }, tag.tag)));
  }
  select.addEventListener("focus", fill);
  fill();
  return { element: select, refresh: fill };
}
