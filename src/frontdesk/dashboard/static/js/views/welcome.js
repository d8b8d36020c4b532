// Shown to an agent who belongs to no project yet: create the first one.

import { post } from "../api.js";
import { h, replace } from "../dom.js";

export function renderNoProject(root, { navigate }) {
  document.title = "Welcome · frontdesk";
  const name = h("input", { type: "text", required: true, maxlength: 100, placeholder: "Acme support" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });
  replace(root, h("div", { class: "signin-page" }, h("div", { class: "signin-card" },
    h("h1", {}, "Create your first project"),
    h("p", { class: "muted" }, "A project is one website or business: its widget, team and contacts."),
    h("form", { class: "signin-form", onSubmit: async (event) => {
      event.preventDefault();
      try {
        const project = await post("/projects", { name: name.value.trim() });
        navigate(`/dashboard/${project._id}/settings`, { replace: true });
      } catch (failure) {
        error.textContent = failure.message;
        error.hidden = false;
      }
    } }, h("label", { class: "form-field" }, h("span", {}, "Project name"), name), error,
    h("button", { class: "btn btn-primary btn-block", type: "submit" }, "Create project")))));
}
