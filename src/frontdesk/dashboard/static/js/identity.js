// Who a visitor is and how we know: avatar with the shield, fields marked verified or
// self-reported (from lead.provenance), and the senderAuthInfo record (docs/identity.md).

import { h, icon } from "./dom.js";
import { ago, dateTime } from "./format.js";

const SHIELD_TIP =
  "Authenticated visitor: identity verified by a token your backend signed with this project's secret";

const PALETTE_SIZE = 8; // .avatar-c0 … .avatar-c7 in the stylesheet

function colourFor(seed) {
  let hash = 0;
  for (const ch of seed || "?") hash = (hash * 31 + ch.charCodeAt(0)) | 0;
  return `avatar-c${Math.abs(hash) % PALETTE_SIZE}`;
}

function initials(name) {
  const words = (name || "").trim().split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  if (words.length === 0) return "?";
  const letters = words.slice(0, 2).map((w) => [...w.replace(/[^\p{L}\p{N}]/gu, "")][0] || "");
  return letters.join("").toUpperCase() || "?";
}

export function shield() {
  return h("span", { class: "shield", title: SHIELD_TIP, role: "img", "aria-label": SHIELD_TIP },
    icon("shield"));
}

export function avatar(name, { seed, authenticated, size = "md" } = {}) {
  const anonymous = !authenticated && !name;
  return h("span", {
    class: `avatar avatar-${size}${authenticated ? " is-authenticated" : ""}`,
    dataset: { authenticated: authenticated ? "true" : "false" },
  },
  h("span", { class: `avatar-face ${colourFor(seed || name)}` },
    anonymous ? "?" : initials(name)),
  authenticated ? shield() : null);
}

export function identityPill(authenticated) {
  return authenticated
    ? h("span", { class: "pill pill-verified", title: SHIELD_TIP }, icon("shield"), "Authenticated")
    : h("span", { class: "pill pill-anonymous" }, "Anonymous");
}

const SOURCE_LABELS = {
  token: ["Verified", "Signed by your backend in the visitor's token"],
  email_code: ["Verified by e-mail code", "The visitor proved this address with a one-time code"],
  visitor: ["Self-reported", "Typed by the visitor; nothing proves it"],
  agent: ["Edited by an agent", "Entered by a member of your team"],
  system: ["System", "Set by frontdesk"],
};

export function sourceOf(lead, field) {
  const entry = lead && lead.provenance && lead.provenance[field];
  if (entry && entry.source) return entry.source;
  return lead && lead[field] ? "visitor" : null;
}

export function sourceBadge(source) {
  const [label, tip] = SOURCE_LABELS[source] || SOURCE_LABELS.visitor;
  return h("span", { class: `source source-${source}`, title: tip },
    source === "token" ? icon("check") : null, label);
}

const FIELDS = [["fullname", "Name"], ["email", "Email"], ["phone", "Phone"]];

export function fieldList(lead) {
  const rows = FIELDS.map(([field, label]) => {
    const value = lead && lead[field];
    const source = value ? sourceOf(lead, field) : null;
    const at = value && lead.provenance && lead.provenance[field] && lead.provenance[field].at;
    return h("div", { class: `field${source ? ` field-${source}` : ""}`, dataset: { field, source: source || "none" } },
      h("dt", {}, label),
      h("dd", {}, h("span", { class: "field-value" }, value || "—"), source ? sourceBadge(source) : null,
        at ? h("time", { class: "field-time muted", datetime: at, title: dateTime(at) }, ago(at)) : null));
  });
  return h("dl", { class: "fields" }, rows);
}

const STANDARD_CLAIMS = ["iss", "aud", "sub", "iat", "exp", "nbf", "jti"];

function claimValue(value) {
  return typeof value === "object" && value !== null ? JSON.stringify(value) : String(value);
}

function row(label, value, extra = {}) {
  return h("div", { class: "kv", ...extra }, h("dt", {}, label), h("dd", {}, value));
}

export function senderAuthInfoSection(info) {
  const section = h("section", { class: "auth-info", "aria-label": "senderAuthInfo" },
    h("h3", { class: "panel-title" }, "How they signed in ",
      h("code", { class: "muted-code" }, "senderAuthInfo")));
  if (!info) {
    section.append(h("p", { class: "muted" }, "No authentication details were recorded."));
    return section;
  }
  const authVar = info.authVar || {};
  const token = authVar.token || {};
  const custom = authVar.sign_in_provider === "custom";
  const emailCode = authVar.sign_in_provider === "email_code";
  const expired = typeof token.exp === "number" && token.exp * 1000 < Date.now();
  section.dataset.verified = info.verified ? "true" : "false";
  section.append(
    h("div", { class: `auth-banner ${info.verified ? "is-verified" : emailCode ? "is-email" : "is-anonymous"}` },
      info.verified ? icon("shield") : icon("info"),
      h("span", {}, info.verified
        ? "Verified: a token signed with this project's secret vouches for this visitor."
        : emailCode
          ? `E-mail verified: the visitor proved ${(info.emailVerified && info.emailVerified.email) || "an address"} with a one-time code. No token from your backend vouches for the person.`
          : "Not verified: an anonymous session; anything the visitor typed is self-reported.")),
    h("dl", { class: "kvs" },
      row("Provider", custom ? "Custom token (your backend)" : emailCode ? "Anonymous, e-mail proven by a code" : "Anonymous", { dataset: { key: "provider" } }),
      row("User id", authVar.uid || "—", { dataset: { key: "uid" } }),
      row("Issued", dateTime(token.iat), { dataset: { key: "iat" } }),
      row("Expires", `${dateTime(token.exp)}${expired ? " (expired; the session outlives it)" : ""}`,
        { dataset: { key: "exp" } }),
      row("Verified at", dateTime(info.verifiedAt)),
      row("Key id", info.kid || "—", { dataset: { key: "kid" } }),
      row("Algorithm", info.alg || "—", { dataset: { key: "alg" } }),
      row("Auth type", info.authType || "—")),
  );
  const claims = Object.entries(token).filter(([key]) => !STANDARD_CLAIMS.includes(key));
  section.append(h("h4", { class: "claims-title" }, info.verified ? "Verified claims" : "Session claims"),
    claims.length === 0
      ? h("p", { class: "muted" }, "None.")
      : h("dl", { class: "kvs claims" }, claims.map(([key, value]) =>
        row(key, claimValue(value), { dataset: { claim: key } }))),
    h("details", { class: "raw-claims" },
      h("summary", {}, "Registered claims"),
      h("dl", { class: "kvs" }, STANDARD_CLAIMS.filter((k) => k in token).map((key) =>
        row(key, key === "iat" || key === "exp" || key === "nbf"
          ? `${token[key]} (${dateTime(token[key])})` : claimValue(token[key]))))));
  return section;
}
