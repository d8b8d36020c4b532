// Files in a conversation: upload with progress and cancel, the message that carries a file,
// thumbnails, file chips and the larger view. File names are data: they only ever go into
// text nodes and attributes, never into markup.

import { ApiError } from "./api.js";
import { h } from "./dom.js";

const AUTH_SCHEME = /^(jwt|bearer)\s+/i;
// A signed URL is asked for again this long before it expires.
const EXPIRY_MARGIN_MS = 60 * 1000;
const BIG_UPLOAD_BYTES = 1024 * 1024;

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
      if (xhr.status >= 200 && xhr.status < 300 && data) resolve(data);
      else reject(uploadError(xhr.status, data));
    };
    // A server that refuses a body too big may answer before reading it and close the
    // connection: the browser then reports a network error, not the 413.
    xhr.onerror = () => reject(file.size > BIG_UPLOAD_BYTES
      ? new ApiError(0, "upload_cut_off", "The upload was cut off: the file may be too big.")
      : new ApiError(0, "network_error", "The chat server cannot be reached."));
    xhr.onabort = () => reject(new ApiError(0, "aborted", "upload cancelled"));
    const form = new FormData();
    form.append("file", file, file.name || "file");
    xhr.send(form);
  });
  return { done, abort: () => xhr.abort() };
}

function uploadError(status, data) {
  const code = data?.code ?? "http_error";
  // The server's messages are lower-case phrases ("files of type … are not accepted").
  const reason = String(data?.message || data?.error || "").trim().replace(/([^.!?])$/, "$1.");
  if (status === 413) return new ApiError(status, code, `This file is too big${reason ? ": " + reason : "."}`);
  const capitalised = reason.charAt(0).toUpperCase() + reason.slice(1);
  return new ApiError(status, code, capitalised || `The upload failed (${status}).`);
}

// Refuse early what the server would refuse anyway (it decides; this only saves the wait).
export function precheck(file, maxBytes) {
  if (!file.size) return "This file is empty.";
  if (maxBytes && file.size > maxBytes) {
    return `This file is too big (${humanSize(file.size)}; the limit is ${humanSize(maxBytes)}).`;
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
// file, metadata {src, name, type, size, width, height} (the descriptor's `metadata`), the
// file's name as its text.
export function fileMessage(descriptor) {
  const metadata = descriptor.metadata;
  return { type: descriptor.kind === "image" ? "image" : "file", text: metadata.name, metadata };
}

// The files of a clipboard paste or a drop (only files, not text or links).
export function filesOf(transfer) {
  if (!transfer) return [];
  return Array.from(transfer.files || []).filter((file) => file && typeof file.size === "number");
}

export function hasFiles(transfer) {
  return Boolean(transfer) && Array.from(transfer.types || []).includes("Files");
}

// The API path of a stored file's stable `src` (`/<project>/files/<24 hex>`), or null for
// anything else. Only such a path is ever asked for, and only of the reader's own server: a
// message naming some other URL shows no picture, so it can neither track the reader nor
// learn its token.
const FILE_PATH = /\/[0-9a-f]{24}\/files\/[0-9a-f]{24}$/;

export function filePath(src) {
  try {
    const match = FILE_PATH.exec(new URL(src, "http://server.invalid").pathname);
    return match ? match[0] : null;
  } catch (error) {
    return null;
  }
}

// Signed URLs of stored files, asked of the server with the reader's token (`fetchSigned(path)`
// answers the file with `url`, `thumbnailUrl` and `expiresAt`), kept until shortly before they
// expire. The server writes them on its configured public URL; they are used on `base`, the
// server this client talks to (the signature does not name a host), so a dashboard reached by
// another name, whose CSP admits only its own origin, still shows them.
export class UrlCache {
  constructor(fetchSigned, base) {
    this.fetchSigned = fetchSigned;
    this.base = base;
    this.entries = new Map();
  }

  // A Promise of {url, thumbnailUrl}; `fresh` skips the cache (a URL that failed to load).
  get(src, { fresh = false } = {}) {
    const path = filePath(src);
    if (!path) return Promise.reject(new ApiError(0, "not_a_file", "not a file of this server"));
    const entry = this.entries.get(path);
    if (!fresh && entry && Date.now() < entry.until) return entry.signed;
    const signed = this.fetchSigned(path).then((file) => {
      const expires = Date.parse(file.expiresAt);
      const current = this.entries.get(path);
      if (current && current.signed === signed) current.until = Number.isNaN(expires) ? 0 : expires - EXPIRY_MARGIN_MS;
      const url = this.onBase(file.url);
      if (!url) throw new ApiError(0, "bad_file_url", "the server gave no usable URL");
      return { url, thumbnailUrl: this.onBase(file.thumbnailUrl) || url };
    });
    signed.catch(() => {
      if (this.entries.get(path)?.signed === signed) this.entries.delete(path);
    });
    this.entries.set(path, { signed, until: Date.now() + EXPIRY_MARGIN_MS });
    return signed;
  }

  clear() {
    this.entries.clear();
  }

  onBase(value) {
    const url = webUrl(value);
    if (!url) return "";
    const { pathname, search } = new URL(url);
    return new URL(pathname + search, new URL(this.base).origin).href;
  }
}

// Only http(s) URLs go into src and href (never javascript: or data:, whatever answered).
function webUrl(value) {
  try {
    const url = new URL(String(value ?? ""));
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : "";
  } catch (error) {
    return "";
  }
}

// Point an <img> at a fresh signed URL (`pick` chooses the full image or the thumbnail); when
// it fails to load (expired meanwhile), ask for a new one, once.
function loadImage(img, src, urls, pick, onFail) {
  let retried = false;
  img.addEventListener("error", () => {
    if (retried) {
      onFail();
      return;
    }
    retried = true;
    urls.get(src, { fresh: true }).then((signed) => { img.src = pick(signed); }, onFail);
  });
  urls.get(src).then((signed) => { img.src = pick(signed); }, () => {
    retried = true;
    onFail();
  });
}

// The body of a message of type image or file, or null for a plain text message.
// `message`: {type, metadata, upload}; `urls`: a UrlCache; `openViewer(src, name)`.
export function attachmentBody(message, { urls, openViewer }) {
  if (message.upload) return uploadBody(message.upload);
  const meta = message.metadata;
  if (!meta || !filePath(meta.src) || !["image", "file"].includes(message.type)) return null;
  const name = String(meta.name || "file");
  if (message.type === "image") {
    const img = h("img", { alt: name, decoding: "async" });
    if (Number(meta.width) > 0 && Number(meta.height) > 0) img.style.aspectRatio = `${meta.width} / ${meta.height}`;
    const button = h("button", {
      class: "thumb", type: "button", "aria-label": `Open image ${name}`, title: name,
      onclick: () => openViewer(meta.src, name),
    }, img);
    loadImage(img, meta.src, urls, (signed) => signed.thumbnailUrl, () => button.classList.add("broken"));
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
  // The href is a short-lived signed URL: set now, and asked for again at a click once it aged.
  let signedAt = 0;
  const refresh = (fresh) => urls.get(meta.src, { fresh }).then((signed) => {
    link.href = signed.url;
    signedAt = Date.now();
  });
  refresh(false).catch(() => link.classList.add("broken"));
  link.addEventListener("click", (event) => {
    if (signedAt && Date.now() - signedAt < EXPIRY_MARGIN_MS) return;
    event.preventDefault();
    refresh(true).then(() => link.click(), () => link.classList.add("broken"));
  });
  return link;
}

function extension(name) {
  const match = /\.([a-z0-9]{1,4})$/i.exec(name);
  return match ? match[1].toUpperCase() : "FILE";
}

// A file on its way up: name, size, a progress bar and a cancel button; or why it failed, and
// a button to dismiss that.
function uploadBody(upload) {
  const percent = Math.round((upload.progress || 0) * 100);
  // Through the CSSOM, not a style attribute: a strict CSP (the dashboard's) allows only this.
  const bar = h("span", { class: "bar" });
  bar.style.width = `${percent}%`;
  upload.bar = bar;
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
    }, "Cancel"),
    upload.error && upload.dismiss ? h("button", {
      class: "cancel", type: "button", "aria-label": `Dismiss ${upload.name}`, onclick: upload.dismiss,
    }, "Dismiss") : null);
}

// Move an upload's progress bar where it is drawn, without redrawing it (a redraw between a
// press and a release on Cancel would lose the click). False when it is not on screen.
export function showProgress(upload, progress) {
  upload.progress = progress;
  const bar = upload.bar;
  if (!bar || !bar.isConnected) return false;
  const percent = Math.round(progress * 100);
  bar.style.width = `${percent}%`;
  bar.parentElement.setAttribute("aria-valuenow", String(percent));
  return true;
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
  loadImage(img, src, urls, (signed) => signed.url, () => img.replaceWith(h("p", { class: "viewer-error", text: "This image could not be loaded." })));
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
