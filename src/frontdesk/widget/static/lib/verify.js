// Proving who the visitor is: the e-mail code flow (address → code sent → 6 digits → done),
// an agent's request to verify with its choices, and the continuity link of a reply e-mail.
// The address and the code only ever travel in POST bodies, never in a URL.

import { h } from "./dom.js";

export const TIER_RANK = { anonymous: 0, email_verified: 1, authenticated: 2 };

// The server's error codes (docs/identity.md, "Trust tiers"), as a visitor reads them.
const CODE_ERRORS = {
  invalid_code: "That code is not right. Check the e-mail and try again.",
  code_expired: "That code has expired. Send a new one.",
  code_used: "That code was already used. Send a new one.",
  code_locked: "Too many wrong tries: this code is locked. Send a new one.",
  no_pending_code: "No code is waiting for this address. Send a new one.",
  rate_limited: "Too many codes were asked for. Please wait a minute and try again.",
  email_unavailable: "This chat cannot send e-mail right now, so the address cannot be confirmed.",
  already_authenticated: "You are signed in already: there is nothing more to confirm.",
  validation_failed: "That does not look like an e-mail address.",
  network_error: "The chat server cannot be reached. Try again in a moment.",
};

export function describeError(error) {
  const text = CODE_ERRORS[error.code] || error.message || "Something went wrong. Try again.";
  const left = (error.details || []).find((d) => typeof d.attemptsLeft === "number");
  if (error.code !== "invalid_code" || !left) return text;
  return `${text} ${left.attemptsLeft} ${left.attemptsLeft === 1 ? "try" : "tries"} left.`;
}

// The REST calls of the trust tiers, on top of the widget's Api.
export class TrustApi {
  constructor(api) {
    this.api = api;
  }

  availability(departmentId) {
    const query = departmentId ? `?department=${encodeURIComponent(departmentId)}` : "";
    return this.api.call("GET", `/projects/${encodeURIComponent(this.api.projectId)}/availability${query}`);
  }

  sendCode(token, email) {
    return this.api.call("POST", this.api.projectPath("/verifications/email"), { token, body: { email } });
  }

  confirmCode(token, email, code) {
    return this.api.call("POST", this.api.projectPath("/verifications/email/confirm"),
      { token, body: { email, code } });
  }

  redeemContinuity(token) {
    return this.api.call("POST", "/auth/continue", { body: { token } });
  }
}

// The e-mail code flow as one card. It keeps its own state, so the controller can re-render
// the screen around it without losing what the visitor typed.
//   send(email) -> Promise of {email, expiresAt, codeLength}
//   confirm(email, code) -> Promise of {email}
//   onVerified(result): the address is proven.
export class EmailVerification {
  constructor({ send, confirm, onVerified, intro }) {
    Object.assign(this, { send, confirm, onVerified, intro });
    this.step = "address"; // address → code → done
    this.email = "";
    this.sentTo = null;
    this.error = null;
    this.busy = false;
    this.node = h("div", { class: "card verify", "data-verify": "address" });
    this.render();
  }

  // Shown at once as proven (the visitor verified in another tab, or before).
  markVerified(email) {
    this.step = "done";
    this.sentTo = email || this.sentTo;
    this.error = null;
    this.render();
  }

  render() {
    this.node.dataset.verify = this.step;
    const body = this.step === "done" ? this.doneStep() : this.step === "code" ? this.codeStep() : this.addressStep();
    this.node.replaceChildren(...body.filter(Boolean));
    const field = this.node.querySelector("input");
    if (field && this.focusNext) field.focus({ preventScroll: true });
    this.focusNext = false;
  }

  errorLine() {
    return this.error ? h("p", { class: "verify-error", role: "alert", text: this.error }) : null;
  }

  addressStep() {
    const input = h("input", {
      type: "email", name: "email", autocomplete: "email", required: true, value: this.email,
      "aria-label": "Your e-mail address", placeholder: "you@example.com", maxlength: 254,
    });
    const form = h("form", {
      class: "verify-form",
      onsubmit: (event) => {
        event.preventDefault();
        if (!form.reportValidity()) return;
        this.email = input.value.trim();
        this.requestCode();
      },
    }, input, h("button", { class: "primary", type: "submit", disabled: this.busy }, this.busy ? "Sending…" : "Send code"));
    return [
      h("h3", { text: "Confirm your e-mail" }),
      h("p", { text: this.intro || "We send a 6-digit code to your address. Once confirmed, our answer can reach you there." }),
      form, this.errorLine(),
    ];
  }

  codeStep() {
    const input = h("input", {
      name: "code", inputmode: "numeric", autocomplete: "one-time-code", required: true,
      pattern: "[0-9]{6}", maxlength: 6, "aria-label": "6-digit code", placeholder: "123456",
    });
    const form = h("form", {
      class: "verify-form",
      onsubmit: (event) => {
        event.preventDefault();
        const code = input.value.replace(/\s+/g, "");
        if (!/^\d{6}$/.test(code)) {
          this.error = "The code has 6 digits.";
          this.render();
          return;
        }
        this.confirmWith(code);
      },
    }, input, h("button", { class: "primary", type: "submit", disabled: this.busy }, this.busy ? "Checking…" : "Verify"));
    return [
      h("h3", { text: "Code sent" }),
      h("p", { class: "verify-sent" }, "We sent a 6-digit code to ", h("strong", { text: this.sentTo }), ". It is valid for a few minutes."),
      form, this.errorLine(),
      h("div", { class: "verify-links" },
        h("button", { class: "link", type: "button", disabled: this.busy, onclick: () => this.requestCode() }, "Send a new code"),
        h("button", { class: "link", type: "button", onclick: () => { this.step = "address"; this.error = null; this.focusNext = true; this.render(); } }, "Use another address")),
    ];
  }

  doneStep() {
    return [
      h("h3", { class: "verify-done" }, h("span", { class: "tick", "aria-hidden": "true", text: "✓" }), "E-mail confirmed"),
      h("p", {}, h("strong", { text: this.sentTo }), " is confirmed. Our answer can reach you there if you leave."),
    ];
  }

  async requestCode() {
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const sent = await this.send(this.email);
      this.sentTo = sent.email || this.email;
      this.step = "code";
      this.focusNext = true;
    } catch (error) {
      this.error = describeError(error);
    }
    this.busy = false;
    this.render();
  }

  async confirmWith(code) {
    this.busy = true;
    this.error = null;
    this.render();
    try {
      const result = await this.confirm(this.sentTo, code);
      this.step = "done";
      this.sentTo = result.email || this.sentTo;
      this.busy = false;
      this.render();
      this.onVerified(result);
      return;
    } catch (error) {
      this.error = describeError(error);
      this.focusNext = true;
    }
    this.busy = false;
    this.render();
  }
}

// An agent asked the visitor to verify (the conversation's verificationRequest), or its
// department requires a tier (`held`).
// `hostHandles`: the host page listens to onVerificationRequested (it may sign in at once).
export function verificationRequestCard(request, { agentName, hostHandles, canProveEmail, onEmail }) {
  const wantsAccount = request.tier === "authenticated";
  const who = agentName || "Our team";
  const choices = [];
  if (hostHandles) {
    choices.push(h("p", { class: "verify-host", text: wantsAccount
      ? "Log in on this site and the chat will know it is you."
      : "If you are logged in on this site, the chat may confirm it is you at once." }));
  }
  if (!wantsAccount && canProveEmail) {
    choices.push(h("button", { class: "primary", type: "button", onclick: onEmail }, "Confirm my e-mail"));
  } else if (!wantsAccount && !hostHandles) {
    choices.push(h("p", { class: "verify-host", text: "This chat cannot send e-mail right now: log in on this site if you have an account." }));
  } else if (!hostHandles) {
    choices.push(h("p", { class: "verify-host", text: "Log in on this site to continue." }));
  }
  const why = request.held
    ? "This team answers visitors who confirmed who they are: your message waits for them until you do."
    : wantsAccount ? `${who} needs to know you are the account holder before going on.`
      : `${who} asks you to confirm your identity before going on.`;
  return h("div", { class: "card verify-request", role: "status", "data-tier": request.tier,
    "data-reason": request.held ? "department" : "agent" },
  h("h3", { text: "Please confirm who you are" }), h("p", { text: why }), ...choices);
}

// The continuity token of a reply e-mail's link is in the page's fragment (never sent to the
// host's server): take it out of the address bar at once, so a reload or a shared URL cannot
// carry it, and hand it to the caller.
const CONTINUE_KEY = "frontdesk-continue";

export function takeContinuityToken() {
  const hash = window.location.hash.replace(/^#/, "");
  if (!hash) return null;
  const params = new URLSearchParams(hash);
  const token = params.get(CONTINUE_KEY);
  if (!token) return null;
  params.delete(CONTINUE_KEY);
  const rest = params.toString();
  const url = window.location.pathname + window.location.search + (rest ? `#${rest}` : "");
  history.replaceState(history.state, "", url);
  return token;
}
