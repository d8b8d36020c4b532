// The widget's side of the trust tiers, next to the controller (app.js): availability (open or
// closed, who is there), the e-mail code flow, agents' verification requests (shown, and told
// to the host page as onVerificationRequested), and reply e-mails' continuity links.

import { h } from "./dom.js";
import { RequestStatus } from "./status.js";
import { availabilityState, offHoursCard, offHoursNotice, replyTimeText } from "./hours.js";
import { EmailVerification, TIER_RANK, TrustApi, describeError, takeContinuityToken,
  verificationRequestCard } from "./verify.js";

export class Trust {
  // widget: the controller (app.js); listening(name): whether the host page listens to name.
  constructor(widget, listening) {
    this.widget = widget;
    this.listening = listening;
    this.api = new TrustApi(widget.api);
    this.availability = null;
    this.continuityError = null;
    this.reset();
  }

  // A new visitor (sign-out, another person signed in): nothing of the previous one stays.
  reset() {
    this.provenEmail = null;
    this.emailFlow = null;
    this.emailOpen = false;
    this.announced = new Set();
  }

  // The department the host page names (Tiledesk spells it departmentID), or null.
  department() {
    const settings = this.widget.settings;
    return settings.departmentid || settings.departmentID || null;
  }

  async loadAvailability() {
    try {
      this.availability = await this.api.availability(this.department());
    } catch {
      this.availability = null; // an older server: say nothing rather than something wrong
    }
    this.widget.refreshScreen();
  }

  // --- who the visitor is -------------------------------------------------------------------

  tier() {
    const user = this.widget.user;
    if (!user) return "anonymous";
    if (user.isAuthenticated) return "authenticated";
    let best = this.provenEmail ? "email_verified" : "anonymous";
    for (const c of this.widget.conversations.values()) {
      const tier = c.request && c.request.tier;
      if (tier && TIER_RANK[tier] > TIER_RANK[best]) best = tier;
    }
    return best;
  }

  canProveEmail() {
    const delivery = this.availability && this.availability.emailDelivery;
    return Boolean(delivery && delivery.available) && TIER_RANK[this.tier()] < TIER_RANK.email_verified;
  }

  // --- e-mail code flow ---------------------------------------------------------------------

  flow() {
    if (!this.emailFlow) {
      this.emailFlow = new EmailVerification({
        send: (email) => this.widget.authed((token) => this.api.sendCode(token, email)),
        confirm: (email, code) => this.widget.authed((token) => this.api.confirmCode(token, email, code)),
        onVerified: (result) => this.emailVerified(result),
      });
    }
    return this.emailFlow;
  }

  openEmailFlow() {
    this.emailOpen = true;
    this.widget.refreshScreen();
    const input = this.flow().node.querySelector("input");
    if (input) input.focus({ preventScroll: true });
    this.flow().node.scrollIntoView({ block: "nearest" });
  }

  emailVerified(result) {
    this.provenEmail = result.email;
    if (this.widget.user) this.widget.user.email = result.email;
    for (const rid of result.requests || []) {
      const c = this.widget.conversations.get(rid);
      if (c && c.request) c.request.tier = result.tier || "email_verified";
    }
    this.widget.refreshScreen();
  }

  // --- agents' verification requests --------------------------------------------------------

  // What the visitor is asked to prove in this conversation: an agent's pending request, or
  // the tier its department requires before any agent sees it (held); null when nothing is.
  pendingRequest(c) {
    const request = c.request;
    if (!request) return null;
    const byAgent = request.verificationRequest;
    const asked = byAgent && byAgent.status === "pending" ? byAgent
      : request.heldForTier ? { _id: `held:${c.rid}`, tier: request.heldForTier, requestedAt: request.createdAt, held: true }
        : null;
    if (!asked) return null;
    return TIER_RANK[this.tier()] >= TIER_RANK[asked.tier] ? null : asked;
  }

  // A conversation changed (loaded, or an update arrived): a new pending request is told to
  // the host page once, so a logged-in site can sign the visitor in with a custom token.
  requestChanged(c) {
    const asked = this.pendingRequest(c);
    if (!asked || this.announced.has(asked._id)) return;
    this.announced.add(asked._id);
    this.widget.emit("onVerificationRequested", {
      conversationId: c.rid, request_id: c.rid, tier: asked.tier, requestedAt: asked.requestedAt,
      reason: asked.held ? "department" : "agent",
      canProveEmail: this.canProveEmail(),
    });
  }

  // --- what the screens show ----------------------------------------------------------------

  homeNodes() {
    const nodes = [];
    if (this.continuityError) {
      nodes.push(h("div", { class: "card continuity-error", role: "alert" },
        h("h3", { text: "This link cannot open the conversation" }),
        h("p", { text: this.continuityError })));
    }
    nodes.push(offHoursCard(this.availability, {
      canProveEmail: this.canProveEmail() && !this.emailOpen,
      onProveEmail: () => this.openEmailFlow(),
    }));
    if (this.emailOpen || (this.emailFlow && this.emailFlow.step === "done")) nodes.push(this.flow().node);
    return nodes.filter(Boolean);
  }

  conversationNodes(c) {
    const nodes = [];
    const asked = this.pendingRequest(c);
    // Once the visitor chose to prove an e-mail, the code flow takes the request's place.
    if (asked && !this.emailOpen) {
      nodes.push(verificationRequestCard(asked, {
        agentName: this.widget.agentName(c),
        hostHandles: this.listening("onVerificationRequested"),
        canProveEmail: this.canProveEmail(),
        onEmail: () => this.openEmailFlow(),
      }));
    }
    if (this.emailOpen) {
      nodes.push(this.flow().node);
    } else if (!asked && c.request && c.request.status !== RequestStatus.CLOSED) {
      nodes.push(offHoursNotice(this.availability, {
        canProveEmail: this.canProveEmail(), onProveEmail: () => this.openEmailFlow(),
      }));
    }
    return nodes.filter(Boolean);
  }

  subtitle() {
    return availabilityState(this.availability) === "open" && !this.availability?.expectedReplyMinutes
      ? null : replyTimeText(this.availability);
  }

  // --- continuity links ---------------------------------------------------------------------

  // A reply e-mail's link opened this page: trade its one-time token for the visitor's session
  // and that conversation. Returns the session and the conversation id, or null.
  async redeemContinuity() {
    const token = takeContinuityToken();
    if (!token) return null;
    try {
      return await this.api.redeemContinuity(token);
    } catch (error) {
      this.continuityError = error.code === "network_error" ? describeError(error)
        : "It was used already or has expired: each link in our e-mails opens its conversation once. Your conversations are still here if you are on the same device.";
      return null;
    }
  }
}
