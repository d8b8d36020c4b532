// What the visitor sees: launcher, home screen, pre-chat form, conversation screen.
// The view owns DOM only; every decision is the controller's, reached through `actions`.

import { h, icon, initials, shortTime } from "./dom.js";
import { attachControls, attachmentBody, dropTarget, openViewer } from "./files.js";
import { STYLES } from "./styles.js";

const SAFE_COLOR = /^(#[0-9a-f]{3,8}|rgb\(\s*[\d.%\s,]+\)|[a-z]{3,20})$/i;

export class WidgetView {
  constructor(host, settings, actions) {
    this.settings = settings;
    this.actions = actions;
    this.conversation = null;
    const root = host.attachShadow({ mode: "open" });
    this.badge = h("span", { class: "badge", hidden: true, "aria-hidden": "true" });
    this.launcher = h("button", {
      class: "launcher", type: "button", "aria-label": "Open chat", "aria-expanded": "false",
      onclick: () => actions.toggle(),
    }, icon("chat"), this.badge);
    this.panel = h("section", {
      class: "panel", role: "dialog", "aria-label": settings.widgetTitle, hidden: true,
      onkeydown: (event) => event.key === "Escape" && actions.close(),
    });
    const classes = ["fd", settings.align === "left" ? "left" : ""].join(" ").trim();
    this.frame = h("div", { class: classes }, this.panel, this.launcher);
    if (SAFE_COLOR.test(String(settings.themeColor || ""))) {
      this.frame.style.setProperty("--fd-brand", settings.themeColor);
    }
    root.append(h("style", { text: STYLES }), this.frame);
  }

  setOpen(open) {
    this.panel.hidden = !open;
    this.frame.classList.toggle("open", open);
    this.launcher.setAttribute("aria-expanded", String(open));
    this.launcher.setAttribute("aria-label", open ? "Close chat" : "Open chat");
    this.launcher.replaceChildren(icon(open ? "close" : "chat"), this.badge);
    if (!open) this.launcher.focus({ preventScroll: true });
  }

  setBadge(count) {
    this.badge.hidden = count === 0;
    this.badge.textContent = count > 9 ? "9+" : String(count);
    this.launcher.setAttribute("aria-label",
      (this.panel.hidden ? "Open chat" : "Close chat") +
      (count ? `, ${count} unread message${count === 1 ? "" : "s"}` : ""));
  }

  showError(text) {
    const current = this.panel.querySelector(".error");
    if (current) current.remove();
    if (!text) return;
    const screen = this.panel.querySelector(".screen");
    const footer = screen && screen.querySelector(".footer, .composer, .closed");
    const error = h("div", { class: "error", role: "alert", text });
    if (footer) footer.before(error);
    else if (screen) screen.append(error);
  }

  // --- home -------------------------------------------------------------------------------

  renderHome({ title, welcome, signedInAs, agents, conversations, trust = [] }) {
    this.conversation = null;
    const header = h("header", { class: "header home-hero" },
      h("div", { class: "titles" },
        h("h2", { text: title }),
        h("p", { text: welcome }),
        signedInAs ? h("p", { class: "verified", text: `Signed in as ${signedInAs}` }) : null,
        agents.length ? h("div", { class: "agents", "aria-label": "Our team" },
          agents.slice(0, 4).map((name) => h("span", { class: "avatar", title: name, text: initials(name) }))) : null),
      this.closeButton());
    const start = h("div", { class: "card" },
      h("h3", { text: conversations.length ? "Need something else?" : "Start a conversation" }),
      h("p", { text: "Our team will answer here. You can leave and come back any time." }),
      h("button", { class: "primary", type: "button", onclick: () => this.actions.newConversation() },
        icon("plus"), "New conversation"));
    const list = conversations.length
      ? [h("h3", { class: "list-title", text: "Your conversations" }),
         h("ul", { class: "conversations" }, conversations.map((c) => this.conversationRow(c)))]
      : [h("p", { class: "empty", text: "No conversations yet." })];
    this.setScreen("home", header, h("div", { class: "scroll" }, trust, start, list), this.footer());
    this.panel.querySelector(".primary").focus({ preventScroll: true });
  }

  conversationRow(c) {
    return h("li", {},
      h("button", {
        class: "row" + (c.unread ? " unread" : ""), type: "button", "data-rid": c.rid,
        onclick: () => this.actions.openConversation(c.rid),
      },
      h("span", { class: "avatar", "aria-hidden": "true", text: initials(c.title) }),
      h("span", { class: "body" },
        h("span", { class: "top" },
          h("span", { class: "name" }, c.title, c.closed ? h("span", { class: "chip", text: "Closed" }) : null),
          h("span", { class: "time", text: shortTime(c.time) })),
        h("span", { class: "preview", text: c.preview })),
      c.unread ? h("span", { class: "dot", "aria-label": "unread" }) : null));
  }

  // --- pre-chat form ------------------------------------------------------------------------

  renderPrechat(defaults) {
    this.conversation = null;
    const name = h("input", { name: "name", autocomplete: "name", required: true, value: defaults.name || "" });
    const email = h("input", { name: "email", type: "email", autocomplete: "email", value: defaults.email || "" });
    const form = h("form", {
      class: "form card",
      onsubmit: (event) => {
        event.preventDefault();
        if (!form.reportValidity()) return;
        this.actions.submitPrechat({ name: name.value.trim(), email: email.value.trim() });
      },
    },
    h("h3", { text: "Before we start" }),
    h("label", {}, "Your name", name),
    h("label", {}, "Email (optional)", email),
    h("p", { class: "hint", text: "So we can follow up if you leave." }),
    h("button", { class: "primary", type: "submit" }, "Start chatting"));
    this.setScreen("prechat", this.barHeader("Start a conversation", ""), h("div", { class: "scroll" }, form), this.footer());
    name.focus({ preventScroll: true });
  }

  // --- conversation -------------------------------------------------------------------------

  renderConversation(model) {
    const messages = h("div", { class: "messages", role: "log", "aria-live": "polite", "aria-label": "Messages" });
    const typing = h("div", { class: "msg", hidden: true, "aria-label": "typing" },
      h("span", { class: "sender" }),
      h("div", { class: "bubble typing" }, h("span"), h("span"), h("span")));
    const scroll = h("div", { class: "scroll" }, messages, typing);
    const trust = h("div", { class: "trust-slot" });
    const header = this.barHeader(model.title, model.subtitle, model.canEnd);
    this.conversation = { rid: model.rid, messages, typing, scroll, trust, nodes: new Map(), closed: null };
    this.setScreen("conversation", header, scroll, trust);
    dropTarget(this.panel.querySelector(".screen"), (files) => this.conversation?.composing && this.actions.attach(files));
    if (model.welcome) messages.append(this.messageNode({ text: model.welcome, mine: false, senderName: model.welcomeFrom, welcome: true }));
    for (const message of model.messages) this.upsertMessage(model.rid, message);
    this.updateConversation(model);
    this.scrollToEnd(true);
  }

  updateConversation(model) {
    const c = this.conversation;
    if (!c || c.rid !== model.rid) return;
    const header = this.panel.querySelector(".header");
    header.querySelector("h2").textContent = model.title;
    header.querySelector(".avatar").textContent = initials(model.title);
    header.querySelector("p").textContent = model.subtitle;
    header.querySelector(".end").hidden = !model.canEnd;
    this.setTrust(c.trust, model.trust || []);
    const state = model.closed ? `closed:${model.rating ?? ""}` : "open";
    if (c.closed === state) return;
    c.closed = state;
    const screen = this.panel.querySelector(".screen");
    screen.querySelectorAll(".composer, .closed").forEach((node) => node.remove());
    c.composing = !model.closed;
    screen.append(model.closed ? this.closedFooter(model) : this.composer());
    if (!model.closed) screen.querySelector("textarea").focus({ preventScroll: true });
  }

  upsertMessage(rid, message) {
    const c = this.conversation;
    if (!c || c.rid !== rid) return;
    const nearEnd = c.scroll.scrollHeight - c.scroll.scrollTop - c.scroll.clientHeight < 80;
    const node = this.messageNode(message);
    const existing = c.nodes.get(message.key);
    if (existing) existing.replaceWith(node);
    else c.messages.insertBefore(node, this.laterNode(c.messages, message.time));
    c.nodes.set(message.key, node);
    if (nearEnd || message.mine) this.scrollToEnd();
  }

  removeMessage(rid, key) {
    const c = this.conversation;
    if (!c || c.rid !== rid) return;
    c.nodes.get(key)?.remove();
    c.nodes.delete(key);
  }

  // Cards about identity and opening hours above the composer. Nodes already in place stay
  // (a visitor typing a code keeps focus); the rest are put in order.
  setTrust(slot, nodes) {
    nodes.forEach((node, i) => {
      if (slot.children[i] !== node) slot.insertBefore(node, slot.children[i] || null);
    });
    while (slot.children.length > nodes.length) slot.lastElementChild.remove();
    slot.hidden = nodes.length === 0;
  }

  // The first shown message written after `time` (null: none, or no time to place it by).
  laterNode(list, time) {
    let later = null;
    if (!time) return later;
    for (let node = list.lastElementChild; node && node.dataset.time; node = node.previousElementSibling) {
      if (node.dataset.time <= time) break;
      later = node;
    }
    return later;
  }

  setTyping(rid, name) {
    const c = this.conversation;
    if (!c || c.rid !== rid) return;
    c.typing.hidden = !name;
    c.typing.querySelector(".sender").textContent = name ? `${name} is typing…` : "";
    if (name) this.scrollToEnd();
  }

  messageNode(message) {
    if (message.system) {
      return h("div", { class: "msg system", role: "note", "data-id": message._id || "", "data-time": message.time || "" },
        h("span", { class: "system-line", text: message.text }));
    }
    const classes = ["msg", message.mine ? "mine" : "", message.state || "", message.welcome ? "welcome" : ""];
    const meta = message.state === "pending" ? "Sending…"
      : message.state === "failed" ? "Not sent. " + (message.error || "")
      : shortTime(message.time);
    return h("div", { class: classes.join(" ").replace(/\s+/g, " ").trim(), "data-id": message.id || "", "data-time": message.time || "" },
      !message.mine && message.senderName ? h("span", { class: "sender", text: message.senderName }) : null,
      this.attachment(message) || h("div", { class: "bubble", text: message.text }),
      meta ? h("span", { class: "meta", text: meta }) : null);
  }

  attachment(message) {
    const urls = this.actions.fileUrls;
    return attachmentBody(message, { urls, openViewer: (src, name) => openViewer(this.frame, src, name, urls) });
  }

  composer() {
    const text = h("textarea", { rows: 1, placeholder: "Write a message…", "aria-label": "Message", maxlength: 4000 });
    const send = h("button", { class: "send", type: "submit", "aria-label": "Send", disabled: true }, icon("send"));
    const submit = () => {
      const value = text.value.trim();
      if (!value) return;
      text.value = "";
      resize();
      this.actions.send(value);
    };
    const resize = () => {
      text.style.height = "auto";
      text.style.height = Math.min(120, text.scrollHeight + 2) + "px";
      send.disabled = !text.value.trim();
    };
    text.addEventListener("input", () => {
      resize();
      this.actions.typing();
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        submit();
      }
    });
    const attach = attachControls({ textarea: text, onFiles: (files) => this.actions.attach(files), icon: icon("clip") });
    return h("form", { class: "composer", onsubmit: (event) => { event.preventDefault(); submit(); } }, attach, text, send);
  }

  closedFooter(model) {
    const footer = h("div", { class: "closed" }, h("p", { class: "notice", text: "This conversation is closed." }));
    if (model.rating === null || model.rating === undefined) {
      let chosen = 0;
      const stars = [1, 2, 3, 4, 5].map((n) => h("button", {
        class: "star", type: "button", "aria-label": `Rate ${n} out of 5`, "aria-pressed": "false",
        onclick: () => {
          chosen = n;
          stars.forEach((star, i) => {
            star.classList.toggle("on", i < n);
            star.setAttribute("aria-pressed", String(i < n));
          });
          submit.disabled = false;
        },
      }, icon("star")));
      const comment = h("textarea", { rows: 2, placeholder: "Anything to add? (optional)", "aria-label": "Comment", maxlength: 1000 });
      const submit = h("button", {
        class: "primary", type: "button", disabled: true,
        onclick: () => this.actions.rate(chosen, comment.value.trim()),
      }, "Send rating");
      footer.append(h("p", { text: "How was this conversation?" }),
        h("div", { class: "stars", role: "group", "aria-label": "Rating" }, stars), comment);
      footer.append(h("div", { class: "actions" }, submit, this.newConversationButton()));
    } else {
      footer.append(h("p", { text: `You rated this conversation ${model.rating}/5. Thank you!` }),
        h("div", { class: "actions" }, this.newConversationButton()));
    }
    return footer;
  }

  // --- pieces -------------------------------------------------------------------------------

  setScreen(name, header, ...rest) {
    this.panel.replaceChildren(h("div", { class: "screen", "data-screen": name }, header, ...rest));
  }

  barHeader(title, subtitle, canEnd = false) {
    return h("header", { class: "header" },
      h("button", { class: "icon-button back", type: "button", "aria-label": "Back to conversations", onclick: () => this.actions.back() }, icon("back")),
      h("span", { class: "avatar", "aria-hidden": "true", text: initials(title) }),
      h("div", { class: "titles" }, h("h2", { text: title }), h("p", { text: subtitle })),
      h("button", { class: "pill end", type: "button", title: "End conversation", hidden: !canEnd, onclick: () => this.actions.endConversation() }, "End chat"),
      this.closeButton());
  }

  closeButton() {
    return h("button", { class: "icon-button", type: "button", "aria-label": "Minimize chat", onclick: () => this.actions.close() }, icon("close"));
  }

  newConversationButton() {
    return h("button", { class: "secondary", type: "button", onclick: () => this.actions.newConversation() }, "New conversation");
  }

  footer() {
    return h("div", { class: "footer", text: "Powered by frontdesk" });
  }

  scrollToEnd(now = false) {
    const c = this.conversation;
    if (!c) return;
    const go = () => { c.scroll.scrollTop = c.scroll.scrollHeight; };
    if (now) go();
    else requestAnimationFrame(go);
  }
}
