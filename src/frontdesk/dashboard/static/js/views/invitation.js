// Accepting an invitation: /dashboard/invitation#<token>. The token stays in the fragment, so
// it is never sent to the server in a URL. A signed-in agent confirms; anyone else signs in or
// creates an account with the invited address first, then the invitation is accepted.

import { ApiError, post, session } from "../api.js";
import { h, replace } from "../dom.js";
import { signinCard } from "./signin.js";

const REFUSALS = {
  invitation_invalid: "This invitation link is not valid any more: it was used, withdrawn or replaced. Ask for a new one.",
  invitation_expired: "This invitation link has expired. Ask for a new one.",
  invitation_wrong_account: "This invitation is for another email address. Sign out and use the invited address.",
  already_member: "You are already a member of this project.",
};

export function renderInvitation(root, { navigate, signOut }) {
  document.title = "Invitation · frontdesk";
  const token = decodeURIComponent(window.location.hash.replace(/^#/, ""));
  const error = h("p", { class: "form-error", role: "alert", hidden: true });

  function card(...children) {
    replace(root, signinCard("You are invited to a team", ...children));
  }

  function fail(failure) {
    error.textContent = failure instanceof ApiError
      ? REFUSALS[failure.code] || failure.message : `Something went wrong: ${failure.message}`;
    error.hidden = false;
  }

  async function accept() {
    const joined = await post("/auth/invitations/accept", { token });
    navigate(`/dashboard/${joined.id_project}/conversations`, { replace: true });
  }

  if (!token) {
    card(h("p", { class: "form-error", role: "alert" }, "This link carries no invitation. Open the whole link you were sent."));
    return;
  }
  if (session.token) {
    const me = session.user || {};
    const button = h("button", { class: "btn btn-primary btn-block", type: "button", onClick: async () => {
      error.hidden = true;
      button.disabled = true;
      try {
        await accept();
      } catch (failure) {
        fail(failure);
        button.disabled = false;
      }
    } }, "Accept invitation");
    card(h("p", { class: "muted" }, `You are signed in as ${me.email || "an agent"}.`), error, button,
      h("p", {}, h("button", { class: "link-button", type: "button", onClick: signOut }, "Use another account")));
    return;
  }
  renderForm("signin");

  function renderForm(mode) {
    const creating = mode === "signup";
    const first = h("input", { type: "text", name: "firstname", autocomplete: "given-name", maxlength: 100 });
    const last = h("input", { type: "text", name: "lastname", autocomplete: "family-name", maxlength: 100 });
    const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
    const password = h("input", { type: "password", name: "password", required: true, minlength: creating ? 8 : null,
      autocomplete: creating ? "new-password" : "current-password" });
    const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" },
      creating ? "Create account and join" : "Sign in and join");
    const form = h("form", { class: "signin-form", onSubmit: async (event) => {
      event.preventDefault();
      error.hidden = true;
      submit.disabled = true;
      const credentials = { email: email.value.trim(), password: password.value };
      try {
        if (creating) {
          await post("/auth/signup", { ...credentials, firstname: first.value.trim(), lastname: last.value.trim() });
        }
        let signed;
        try {
          signed = await post("/auth/signin", credentials);
        } catch (failure) {
          if (!(failure instanceof ApiError && failure.status === 401)) throw failure;
          error.textContent = creating
            ? "Could not sign in with these details. If this address already has an account, sign in with its password instead."
            : "That email and password do not match an agent account.";
          error.hidden = false;
          submit.disabled = false;
          return;
        }
        session.save(signed.token, signed.user);
        await accept();
      } catch (failure) {
        fail(failure);
        submit.disabled = false;
      }
    } },
    creating ? h("label", { class: "form-field" }, h("span", {}, "First name"), first) : null,
    creating ? h("label", { class: "form-field" }, h("span", {}, "Last name"), last) : null,
    h("label", { class: "form-field" }, h("span", {}, "Email (the invited address)"), email),
    h("label", { class: "form-field" }, h("span", {}, "Password"), password),
    error, submit);
    card(h("p", { class: "muted" }, creating
      ? "Create your agent account with the address the invitation was sent to."
      : "Sign in with the address the invitation was sent to."),
    h("div", { class: "invitation-choice" },
      h("button", { class: `btn btn-small ${creating ? "btn-ghost" : ""}`, type: "button", "aria-pressed": String(!creating),
        onClick: () => renderForm("signin") }, "I have an account"),
      h("button", { class: `btn btn-small ${creating ? "" : "btn-ghost"}`, type: "button", "aria-pressed": String(creating),
        onClick: () => renderForm("signup") }, "Create an account")),
    form);
  }
}
