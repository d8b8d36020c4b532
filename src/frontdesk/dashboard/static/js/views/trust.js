// Trust tiers as agents see them: the e-mail-verified badge (distinct from the shield, which
// stays for identities your backend signed), "Ask to verify" in a conversation, system lines,
// and the notice that says what stops working while the server cannot send e-mail.

import { ApiError, get, post } from "../api.js";
import { h, svgIcon } from "../dom.js";
import { ago, dateTime } from "../format.js";
import { identityPill } from "../identity.js";
import { RequestStatus } from "../status.js";

const RANK = { anonymous: 0, email_verified: 1, authenticated: 2 };
const TIER_LABELS = {
  anonymous: "Anonymous",
  email_verified: "E-mail verified",
  authenticated: "Authenticated",
};
// An envelope with a tick: not the shield, so the two proofs never look alike.
const MAIL_CHECK = "M3 5h18a1 1 0 0 1 1 1v7.1a6 6 0 0 0-2-.9V7.4l-8 5.1-8-5.1V17h8.1a6 6 0 0 0 .5 2H3a1 1 0 0 1-1-1V6a1 1 0 0 1 1-1zm1.6 2 7.4 4.7L19.4 7zM18 14a4 4 0 1 1 0 8 4 4 0 0 1 0-8zm-.6 5.3 2.9-2.9-.8-.8-2.1 2.1-1-1-.8.8z";

// The tier of a conversation's visitor: the server's `tier`, or the older requester flag.
export function tierOf(request) {
  const authenticated = Boolean(request && request.requester && request.requester.isAuthenticated);
  const tier = (request && request.tier) || "anonymous";
  return authenticated && RANK[tier] < RANK.authenticated ? "authenticated" : tier;
}

// {email, at} when the contact proved its e-mail address with a one-time code, else null.
export function emailProof(lead) {
  const entry = lead && lead.provenance && lead.provenance.email;
  if (!entry || entry.source !== "email_code" || !lead.email) return null;
  return { email: lead.email, at: entry.at || null };
}

function proofOf(request) {
  // A list row (view=inbox) carries its proof, worked out by the server the same way.
  if (request && request.emailProof !== undefined) return request.emailProof || { email: null, at: null };
  const proof = emailProof(request && request.lead);
  if (proof) return proof;
  const info = request && request.attributes && request.attributes.senderAuthInfo;
  const verified = info && info.emailVerified;
  return verified ? { email: verified.email, at: verified.verifiedAt } : { email: null, at: null };
}

function proofTitle(proof) {
  const address = proof.email ? ` ${proof.email}` : "";
  const when = proof.at ? `, ${dateTime(proof.at)}` : "";
  return `E-mail verified:${address} proven by the visitor with a one-time code${when}. ` +
    "Your backend did not sign this identity (that is the shield).";
}

// The badge: compact (icon only, for the list) or with its label.
export function emailBadge(proof, { compact = false } = {}) {
  const title = proofTitle(proof);
  return h("span", { class: `email-badge${compact ? " is-compact" : ""}`, title, role: "img",
    "aria-label": title, dataset: { tier: "email_verified" } },
  svgIcon("mail-check", MAIL_CHECK), compact ? null : h("span", {}, "E-mail verified"));
}

// Next to a visitor's name: the e-mail badge when that is their tier (the shield is on the
// avatar for authenticated visitors), null otherwise.
export function tierBadge(request, options) {
  return tierOf(request) === "email_verified" ? emailBadge(proofOf(request), options) : null;
}

// The side panel's pill: the tier in words, with provenance and time for an e-mail proof.
export function tierPill(request) {
  const tier = tierOf(request);
  if (tier !== "email_verified") return identityPill(tier === "authenticated");
  const proof = proofOf(request);
  return h("span", { class: "tier-proof" }, emailBadge(proof),
    proof.at ? h("time", { class: "muted", datetime: proof.at, title: dateTime(proof.at) }, ago(proof.at)) : null);
}

// The contact page's pill.
export function leadPill(lead) {
  const proof = !lead.isAuthenticated && emailProof(lead);
  if (!proof) return identityPill(lead.isAuthenticated);
  return h("span", { class: "tier-proof" }, emailBadge(proof),
    proof.at ? h("time", { class: "muted", datetime: proof.at, title: dateTime(proof.at) }, ago(proof.at)) : null);
}

// A line frontdesk itself wrote in the conversation (verified, asked to verify, off hours).
export function isSystemMessage(message) {
  return message.senderKind === "system";
}

export function systemLine(message) {
  return h("div", { class: "message system-line", role: "note", dataset: { messageId: message._id } },
    h("span", {}, message.text));
}

// --- e-mail delivery ----------------------------------------------------------------------

const deliveryByProject = new Map();

// {available, reason} from the server; cached per project for the page's life.
export function emailDelivery(pid) {
  if (!deliveryByProject.has(pid)) {
    deliveryByProject.set(pid, get(`/projects/${pid}/availability`)
      .then((body) => body.emailDelivery || { available: true, reason: null })
      .catch(() => ({ available: true, reason: null })));
  }
  return deliveryByProject.get(pid);
}

export function emailOffNotice(delivery, { compact = false } = {}) {
  if (!delivery || delivery.available) return null;
  const why = delivery.reason === "smtp_not_configured" || !delivery.reason
    ? "no SMTP server is configured (FRONTDESK_SMTP_URL and FRONTDESK_SMTP_FROM)"
    : delivery.reason;
  if (compact) {
    return h("p", { class: "email-off is-compact", role: "note" },
      `E-mail is off: ${why}. Visitors cannot prove an address.`);
  }
  return h("div", { class: "notice email-off", role: "note", dataset: { emailDelivery: "off" } },
    h("strong", {}, "E-mail is off on this server"), ` because ${why}. Until it is set up:`,
    h("ul", {},
      h("li", {}, "visitors cannot prove an e-mail address, so nobody reaches the e-mail-verified tier;"),
      h("li", {}, "replies are not e-mailed to visitors who left, and no link brings them back;"),
      h("li", {}, "invitations are not e-mailed: copy their link from the Team page.")));
}

// --- ask to verify --------------------------------------------------------------------------

// The "Ask to verify" control of a conversation's header.
//   onChanged(request): the server's answer changed the conversation.
//   onError(failure): show it.
export function askToVerify(ctx, request, { delivery, onChanged, onError }) {
  const tier = tierOf(request);
  const closed = request.status === RequestStatus.CLOSED;
  const asked = request.verificationRequest;
  const pending = asked && asked.status === "pending" && RANK[tier] < RANK[asked.tier];
  if (tier === "authenticated") return null;
  const base = `/${ctx.pid}/requests/${encodeURIComponent(request.request_id)}`;
  const menu = h("details", { class: "ask-verify" });

  async function ask(wanted) {
    menu.open = false;
    try {
      await post(`${base}/verification_requests`, { tier: wanted });
      onChanged(await get(base));
    } catch (failure) {
      onError(failure instanceof ApiError ? failure : new ApiError(0, { message: "Could not reach the server." }));
    }
  }

  const emailOff = delivery && !delivery.available;
  const choice = (wanted, title, text, disabled) => h("button", {
    type: "button", class: "ask-choice", disabled, dataset: { tier: wanted },
    onClick: () => ask(wanted),
  }, h("strong", {}, title), h("span", { class: "muted" }, text));

  menu.append(
    h("summary", { class: `btn${pending ? " is-pending" : ""}`, "aria-disabled": String(closed) },
      pending ? `Verification asked · ${ago(asked.requestedAt) || "just now"}` : "Ask to verify"),
    h("div", { class: "ask-menu", role: "menu" },
      h("p", { class: "muted" }, "The visitor sees the request; a site that has them logged in can sign them in at once."),
      tier === "anonymous" ? choice("email_verified", "Prove an e-mail address",
        emailOff ? "Unavailable: this server cannot send e-mail." : "A one-time code sent to the address they give.",
        emailOff || closed) : null,
      choice("authenticated", "Sign in with your site's account",
        "Your backend vouches for them with a signed token (the shield).", closed),
      emailOff ? emailOffNotice(delivery, { compact: true }) : null));
  if (closed) menu.addEventListener("toggle", () => { if (menu.open) menu.open = false; });
  return menu;
}

export function tierLabel(tier) {
  return TIER_LABELS[tier] || TIER_LABELS.anonymous;
}
