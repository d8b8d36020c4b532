// Files in the dashboard: the thread's attach button, paste and drop, uploads with progress and
// cancel, thumbnails, file chips and the larger view; and the files of a contact. The upload and
// rendering code is the widget's own module (same server, same origin), so both sides of a
// conversation show a file the same way.

import { get, session } from "../api.js";
import { h, replace, svgIcon } from "../dom.js";
import { relativeTime } from "../format.js";
import {
  UrlCache, attachControls, attachmentBody, dropTarget, fileMessage, humanSize, openViewer, precheck, showProgress,
  uploadFile,
} from "/widget/lib/files.js";

const CLIP = "M16.5 6.5l-7.8 7.8a1.8 1.8 0 0 0 2.5 2.5l8-8a3.5 3.5 0 0 0-5-5l-8.2 8.2a5.2 5.2 0 0 0 7.4 7.4l7.1-7.1";

// One cache of signed URLs per signed-in agent (they are signed for that reader), kept while
// the agent moves between views.
let signed = { token: null, urls: null };

function signedUrls() {
  if (signed.token !== session.token) {
    signed = { token: session.token, urls: new UrlCache((path) => get(path), window.location.origin) };
  }
  return signed.urls;
}

// The project's upload limit, as the widget configuration publishes it (null: unknown, the
// server decides alone).
const limits = new Map();

function uploadLimit(pid) {
  if (!limits.has(pid)) {
    limits.set(pid, get(`/${pid}/widgets`).then((config) => config.project.maxUploadBytes, () => null));
  }
  return limits.get(pid);
}

// The body of a message that carries a file (thumbnail or chip), or null for text. The thread
// redraws its history on every new message: a message keeps its node, so a picture is not
// fetched and drawn again each time.
const rendered = new WeakMap();

export function attachmentOf(message) {
  if (!rendered.has(message)) {
    const urls = signedUrls();
    const show = (src, name) => openViewer(document.body, src, name, urls);
    rendered.set(message, attachmentBody(message, { urls, openViewer: show }));
  }
  return rendered.get(message);
}

// Wires the thread's composer: `input` (the reply box) takes pastes, `zone` takes drops, and the
// returned `button` opens the file chooser. Each file is uploaded with a progress row in
// `uploads`, then sent as a message: `send(body)` posts it, `onError(failure)` tells the agent
// when that fails. A refused upload stays in `uploads` with its reason until dismissed.
export function threadAttachments({ ctx, input, zone, canSend, send, onError }) {
  const uploads = h("div", { class: "uploads", "aria-live": "polite" });

  function attach(files) {
    if (!canSend()) return;
    for (const file of files) upload(file);
  }

  async function upload(file) {
    const refusal = precheck(file, await uploadLimit(ctx.pid));
    const row = { name: file.name || "file", size: file.size, progress: 0, error: refusal };
    let node = null;
    row.dismiss = () => node.remove();
    const show = () => {
      const next = h("div", { class: "upload-row" }, attachmentBody({ upload: row }, {}));
      if (node) node.replaceWith(next);
      else uploads.append(next);
      node = next;
    };
    show();
    if (row.error) return;
    const transfer = uploadFile({ url: `/${ctx.pid}/files/chat`, token: session.token, file,
      onProgress: (progress) => showProgress(row, progress) || show() });
    row.cancel = () => transfer.abort();
    show();
    try {
      const message = fileMessage(await transfer.done);
      node.remove();
      await send(message);
    } catch (failure) {
      if (failure.code === "aborted") {
        node.remove();
        return;
      }
      if (!node.isConnected) {
        onError(failure);
        return;
      }
      Object.assign(row, { error: failure.message, cancel: null });
      show();
    }
  }

  dropTarget(zone, attach);
  const [button, chooser] = attachControls({ textarea: input, onFiles: attach, icon: svgIcon("clip", CLIP, { stroke: true }) });
  button.className = "btn btn-ghost attach-button";
  return { uploads, button, chooser };
}

// The files of a contact: every image or file message of their conversations, newest first.
export function contactFilesCard(ctx, requests) {
  const list = h("div", { class: "contact-files" }, h("p", { class: "muted" }, "Loading…"));
  Promise.all(requests.map((request) => filesOf(ctx, request))).then((found) => {
    const files = found.flat().sort((a, b) => (a.message.createdAt < b.message.createdAt ? 1 : -1));
    replace(list, files.length === 0 ? h("p", { class: "muted" }, "No files.")
      : h("ul", { class: "file-list" }, files.map((file) => contactFile(ctx, file))));
  }).catch((failure) => replace(list, h("p", { class: "muted" }, `Could not load the files: ${failure.message}`)));
  return h("section", { class: "card" }, h("h2", { class: "card-title" }, "Files"), list);
}

async function filesOf(ctx, request) {
  const rid = encodeURIComponent(request.request_id);
  const messages = await get(`/${ctx.pid}/requests/${rid}/messages`, { limit: 500 });
  return messages.filter((m) => ["image", "file"].includes(m.type) && m.metadata && m.metadata.src)
    .map((message) => ({ message, request }));
}

function contactFile(ctx, { message, request }) {
  const from = message.senderKind === "visitor" ? "From the visitor" : message.senderFullname || "Agent";
  const size = Number(message.metadata.size);
  return h("li", { class: "file-item" },
    attachmentOf(message),
    h("span", { class: "file-item-meta muted" }, `${from} · ${relativeTime(message.createdAt)} · `,
      h("a", { href: `/dashboard/${ctx.pid}/conversations/${encodeURIComponent(request.request_id)}`, "data-link": true },
        "conversation"),
      size ? ` · ${humanSize(size)}` : ""));
}
