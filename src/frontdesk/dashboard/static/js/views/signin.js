// The agents' sign-in page.

import { ApiError, post, session } from "../api.js";
import { h, replace } from "../dom.js";

export function renderSignin(root, { navigate }) {
  document.title = "Sign in · frontdesk";
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true,
    autofocus: true });
  const password = h("input", { type: "password", name: "password",
    autocomplete: "current-password", required: true });
  const submit = h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Sign in");

  const form = h("form", { class: "signin-form", onSubmit: async (event) => {
    event.preventDefault();
    error.hidden = true;
    submit.disabled = true;
    submit.textContent = "Signing in…";
    try {
      const body = await post("/auth/signin", { email: email.value.trim(), password: password.value });
      session.save(body.token, body.user);
      const next = new URLSearchParams(window.location.search).get("next");
      navigate(next && next.startsWith("/dashboard/") ? next : "/dashboard/", { replace: true });
    } catch (failure) {
      error.textContent = failure instanceof ApiError && failure.status === 401
        ? "That email and password do not match an agent account."
        : `Could not sign in: ${failure.message}`;
      error.hidden = false;
      submit.disabled = false;
      submit.textContent = "Sign in";
    }
  } },
  h("label", { class: "form-field" }, h("span", {}, "Email"), email),
  h("label", { class: "form-field" }, h("span", {}, "Password"), password),
  error, submit);

  replace(root, signinCard("Sign in to your inbox",
    h("p", { class: "muted" }, "Answer your visitors, and know which of them are who they say."),
    form));
}

// The card of the pages shown before an agent is in a project: sign-in and invitations.
export function signinCard(title, ...children) {
  return h("div", { class: "signin-page" },
    h("div", { class: "signin-card" },
      h("div", { class: "brand brand-large" }, h("img", { src: "/dashboard/static/favicon.svg", alt: "" }),
        h("span", {}, "frontdesk")),
      h("h1", {}, title),
      ...children));
}
