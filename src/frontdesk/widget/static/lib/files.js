// Files in a conversation: upload with progress and cancel, the message that carries a file,
// thumbnails, file chips and the larger view. File names are data: they only ever go into
// text nodes and attributes, never into markup.

import { ApiError } from "./api.js";
import { h } from "./dom.js";

const AUTH_SCHEME = /^(jwt|bearer)\s+/i;
// A signed URL is fetched again after this long, before the server's lifetime runs out.
const FRESH_FOR_MS = 4 * 60 * 1000;

// Upload one file to `POST /:pid/files/chat` (multipart field `file`). fetch() cannot report
// upload progress, so this is XMLHttpRequest. Returns {done, abort}: `done` is a Promise of the
// stored file's descriptor; abort() makes it reject with code "aborted".
export function uploadFile({ url, token, file, onProgress }) {
  const xhr = new XMLHttpRequest();
  const done = new Promise((resolve, reject) => {
    xhr.open("POST", url);
    xhr.setRequestHeader("Authorization", AUTH_SCHEME.test(token) ? token : "JWT " + token);
    xhr.responseType = "text";
    xhr.upload.onprogress = (event) => {
      if (event.lengthComputable) onProgress(event.loaded / event.total);
    };
    xhr.onload = () => {
      let data = null;
      try {
        data = JSON.parse(xhr.responseText);
      } catch (error) {
        // Not JSON (a proxy's error page): the status says enough.
      }
      if (xhr.status === 200 && data) resolve(data);
      else reject(uploadError(xhr.status, data));
    };
    xhr.onerror = () => reject(new ApiError(0, "network_error", "the chat server cannot be reached"));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    const form = new FormData();
    form.append("file", file, file.name || "file");
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

function uploadError(status, data) {
  const code = data?.code ?? "http_error";
  if (status === 413) return new ApiError(status, code, data?.message || "This file is too big.");
  return new ApiError(status, code, data?.message || data?.error || `The upload failed (${status}).`);
}

// Refuse early what the server would refuse anyway (it decides; this only saves the wait).
export function precheck(file, maxBytes) {
  if (!file.size) return `${file.name || "This file"} is empty.`;
  if (maxBytes && file.size > maxBytes) {
    return `${file.name || "This file"} is too big (${humanSize(file.size)}; the limit is ${humanSize(maxBytes)}).`;
  }
  return null;
}

export function humanSize(bytes) {
  if (!Number.isFinite(bytes) || bytes < 0) return "";
  if (bytes < 1024) return `${bytes} B`;
  const units = ["KB", "MB", "GB"];
  let value = bytes / 1024;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value < 10 ? value.toFixed(1) : Math.round(value)} ${units[unit]}`;
}

// The message that carries an uploaded file, as Tiledesk's widget sends it: type image or
// file, metadata {src, name, type, size, width, height}, the name as its text.
export function fileMessage(descriptor, file) {
  const name = descriptor.name || file.name || "file";
  const mime = descriptor.type || descriptor.contentType || file.type || "application/octet-stream";
  const isImage = Boolean(descriptor.width && descriptor.height) || /^image\/(png|jpeg|gif|webp)$/.test(mime);
  const metadata = {
    src: descriptor.src, name, type: mime, size: descriptor.size ?? file.size,
  };
  if (descriptor.width) metadata.width = descriptor.width;
  if (descriptor.height) metadata.height = descriptor.height;
  if (descriptor.thumbnail) metadata.thumbnail = descriptor.thumbnail;
  if (descriptor.id || descriptor._id) metadata.id = descriptor.id || descriptor._id;
  return { type: isImage ? "image" : "file", text: name, metadata };
}

// The files of a clipboard paste or a drop (only files, not text or links).
export function filesOf(transfer) {
  if (!transfer) return [];
  return Array.from(transfer.files || []).filter((file) => file && typeof file.size === "number");
}

export function hasFiles(transfer) {
  return Boolean(transfer) && Array.from(transfer.types || []).includes("Files");
}

// Fresh signed URLs for a stored file's stable `src`, cached a little while.
export class UrlCache {
  constructor(fetchUrl) {
    this.fetchUrl = fetchUrl;
    this.entries = new Map();
  }

  get(src, { fresh = false } = {}) {
    const entry = this.entries.get(src);
    if (!fresh && entry && Date.now() - entry.at < FRESH_FOR_MS) return entry.url;
    const url = this.fetchUrl(src).catch((error) => {
      this.entries.delete(src);
      throw error;
    });
    this.entries.set(src, { at: Date.now(), url });
    return url;
  }

  clear() {
    this.entries.clear();
  }
}

// Point an <img> at a fresh signed URL; when it fails to load (expired), fetch one more.
function loadImage(img, src, urls, onFail) {
  let retried = false;
  img.addEventListener("error", () => {
    if (retried) {
      onFail();
      return;
    }
    retried = true;
    urls.get(src, { fresh: true }).then((url) => { img.src = url; }, onFail);
  });
  urls.get(src).then((url) => { img.src = url; }, () => {
    retried = true;
    onFail();
  });
}

// The body of a message of type image or file, or null for a plain text message.
// `message`: {type, metadata, state, upload}; `urls`: a UrlCache; `openViewer(src, name)`.
export function attachmentBody(message, { urls, openViewer }) {
  if (message.upload) return uploadBody(message.upload);
  const meta = message.metadata;
  if (!meta || typeof meta.src !== "string" || !["image", "file"].includes(message.type)) return null;
  const name = String(meta.name || "file");
  if (message.type === "image") {
    const img = h("img", { alt: name, loading: "lazy", decoding: "async" });
    const ratio = Number(meta.width) > 0 && Number(meta.height) > 0 ? `${meta.width} / ${meta.height}` : "";
    if (ratio) img.style.aspectRatio = ratio;
    const button = h("button", {
      class: "thumb", type: "button", "aria-label": `Open image ${name}`, title: name,
      onclick: () => openViewer(meta.src, name),
    }, img);
    loadImage(img, meta.thumbnail || meta.src, urls, () => button.classList.add("broken"));
    return button;
  }
  return fileChip(meta, urls);
}

function fileChip(meta, urls) {
  const name = String(meta.name || "file");
  const link = h("a", {
    class: "file-chip", href: "#", download: name, target: "_blank", rel: "noopener noreferrer",
    title: `Download ${name}`,
  },
  h("span", { class: "file-icon", "aria-hidden": "true", text: extension(name) }),
  h("span", { class: "file-text" },
    h("span", { class: "file-name", text: name }),
    h("span", { class: "file-size", text: humanSize(Number(meta.size)) })));
  // The href is a short-lived signed URL: set now, and refreshed at the click if it aged.
  let at = 0;
  const refresh = (fresh) => urls.get(meta.src, { fresh }).then((url) => {
    link.href = url;
    at = Date.now();
    return url;
  });
  refresh(false).catch(() => link.classList.add("broken"));
  link.addEventListener("click", (event) => {
    if (at && Date.now() - at < FRESH_FOR_MS) return;
    event.preventDefault();
    refresh(true).then(() => link.click(), () => link.classList.add("broken"));
  });
  return link;
}

function extension(name) {
  const match = /\.([a-z0-9]{1,4})$/i.exec(name);
  return match ? match[1].toUpperCase() : "FILE";
}

// A file on its way up: name, size, a progress bar and a cancel button (or why it failed).
function uploadBody(upload) {
  const percent = Math.round((upload.progress || 0) * 100);
  // Through the CSSOM, not a style attribute: a strict CSP (the dashboard's) allows only this.
  const bar = h("span", { class: "bar" });
  bar.style.width = `${percent}%`;
  return h("div", { class: "upload" + (upload.error ? " failed" : "") },
    h("span", { class: "file-text" },
      h("span", { class: "file-name", text: upload.name }),
      h("span", { class: "file-size", text: upload.error || humanSize(upload.size) })),
    upload.error ? null : h("div", {
      class: "progress", role: "progressbar", "aria-label": `Uploading ${upload.name}`,
      "aria-valuemin": "0", "aria-valuemax": "100", "aria-valuenow": String(percent),
    }, bar),
    upload.error || !upload.cancel ? null : h("button", {
      class: "cancel", type: "button", "aria-label": `Cancel upload of ${upload.name}`, onclick: upload.cancel,
    }, "Cancel"));
}

// A larger view of an image, over everything; Esc, the close button or a click outside closes it.
export function openViewer(container, src, name, urls) {
  const img = h("img", { alt: name });
  const dialog = h("dialog", { class: "viewer", "aria-label": name },
    h("figure", {}, img, h("figcaption", { text: name })),
    h("button", { class: "viewer-close", type: "button", "aria-label": "Close image", onclick: () => dialog.close() }, "×"));
  dialog.addEventListener("click", (event) => {
    if (event.target === dialog) dialog.close();
  });
  dialog.addEventListener("close", () => dialog.remove());
  container.append(dialog);
  loadImage(img, src, urls, () => img.replaceWith(h("p", { class: "viewer-error", text: "This image could not be loaded." })));
  dialog.showModal();
  return dialog;
}

// The composer's ways in: an attach button (file chooser) and pasting into the text box.
// Returns the button and its hidden file input, to be placed in the composer.
export function attachControls({ textarea, onFiles, icon }) {
  const input = h("input", { type: "file", multiple: true, hidden: true, tabindex: "-1", "aria-hidden": "true" });
  input.addEventListener("change", () => {
    const files = Array.from(input.files || []);
    input.value = "";
    if (files.length) onFiles(files);
  });
  textarea.addEventListener("paste", (event) => {
    const files = filesOf(event.clipboardData);
    if (!files.length) return;
    event.preventDefault();
    onFiles(files);
  });
  const button = h("button", {
    class: "attach", type: "button", "aria-label": "Attach a file", title: "Attach a file",
    onclick: () => input.click(),
  }, icon);
  return [button, input];
}

// Dropping files anywhere on `zone` sends them; `drop-over` is set on it while files hover.
export function dropTarget(zone, onFiles) {
  let depth = 0;
  const setOver = (over) => zone.classList.toggle("drop-over", over);
  zone.addEventListener("dragenter", (event) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    depth += 1;
    setOver(true);
  });
  zone.addEventListener("dragover", (event) => {
    if (!hasFiles(event.dataTransfer)) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "copy";
  });
  zone.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) setOver(false);
  });
  zone.addEventListener("drop", (event) => {
    depth = 0;
    setOver(false);
    const files = filesOf(event.dataTransfer);
    if (!files.length) return;
    event.preventDefault();
    onFiles(files);
  });
}
