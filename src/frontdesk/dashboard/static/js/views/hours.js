// Opening hours and trust rules in the project settings: the project's hours (time zone,
// spans per weekday), its off-hours message and usual reply time, e-mail to visitors, and per
// department a minimum trust tier, its own hours and its own off-hours message.

import { ApiError, put } from "../api.js";
import { h, replace } from "../dom.js";
import { emailDelivery, emailOffNotice, tierLabel } from "./trust.js";

// Tiledesk numbers days from Sunday (0); the editor lists them from Monday.
const DAYS = [["1", "Monday"], ["2", "Tuesday"], ["3", "Wednesday"], ["4", "Thursday"],
  ["5", "Friday"], ["6", "Saturday"], ["0", "Sunday"]];
const DEFAULT_SPAN = { start: "09:00", end: "17:00" };
const TIERS = [
  ["anonymous", "Anyone can reach this department's agents."],
  ["email_verified", "Visitors must prove an e-mail address with a one-time code first."],
  ["authenticated", "Only visitors your backend signed in (the shield)."],
];

function timeZones(current) {
  const zones = typeof Intl.supportedValuesOf === "function" ? Intl.supportedValuesOf("timeZone") : [];
  return [...new Set(["UTC", current, ...zones].filter(Boolean))];
}

function localZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

// An editor of {tzname, "0".."6": [{start, end}]}; value() is what it shows now.
// defaultZone: the time zone to start from when `hours` names none (else the browser's).
export function hoursEditor(hours, { disabled = false, label = "Opening hours", defaultZone = null } = {}) {
  const state = { tzname: (hours && hours.tzname) || defaultZone || localZone(), days: {} };
  for (const [day] of DAYS) state.days[day] = ((hours && hours[day]) || []).map((span) => ({ ...span }));

  const zone = h("select", { class: "select", name: "tzname", "aria-label": "Time zone", disabled,
    onChange: (event) => { state.tzname = event.target.value; } },
  timeZones(state.tzname).map((z) => h("option", { value: z, selected: z === state.tzname }, z)));
  const table = h("div", { class: "hours-days", role: "group", "aria-label": label });
  const element = h("div", { class: "hours-editor" },
    h("label", { class: "inline-field" }, h("span", {}, "Time zone"), zone), table);

  function spanRow(day, span, index) {
    const time = (key) => h("input", { type: "time", value: span[key], required: true, disabled,
      "aria-label": `${DAYS.find(([d]) => d === day)[1]} ${key === "start" ? "opens" : "closes"}`,
      onChange: (event) => { span[key] = event.target.value; } });
    return h("span", { class: "hours-span" }, time("start"), h("span", { class: "muted" }, "to"), time("end"),
      disabled ? null : h("button", { class: "btn btn-ghost btn-small", type: "button", "aria-label": "Remove these hours",
        onClick: () => { state.days[day].splice(index, 1); render(); } }, "×"));
  }

  function render() {
    replace(table, DAYS.map(([day, name]) => {
      const spans = state.days[day];
      const open = spans.length > 0;
      return h("div", { class: "hours-day", dataset: { day } },
        h("label", { class: "hours-day-name" },
          h("input", { type: "checkbox", checked: open, disabled, "aria-label": `Open on ${name}`,
            onChange: (event) => {
              state.days[day] = event.target.checked ? [{ ...DEFAULT_SPAN }] : [];
              render();
            } }),
          h("span", {}, name)),
        h("div", { class: "hours-spans" },
          open ? spans.map((span, i) => spanRow(day, span, i)) : h("span", { class: "muted" }, "Closed"),
          open && !disabled ? h("button", { class: "link-button", type: "button",
            onClick: () => { spans.push({ start: "13:00", end: "17:00" }); render(); } }, "+ hours") : null));
    }));
  }
  render();

  return {
    element,
    value() {
      const value = { tzname: state.tzname };
      for (const [day] of DAYS) {
        if (state.days[day].length) value[day] = state.days[day].map(({ start, end }) => ({ start, end }));
      }
      return value;
    },
  };
}

function errorText(failure) {
  return failure instanceof ApiError ? failure.message : "Could not save.";
}

// The project's card. onSaved(project): the server's answer.
export function hoursCard(ctx, project, { onSaved }) {
  const settings = project.settings || {};
  const disabled = !ctx.isAdmin;
  const active = h("input", { type: "checkbox", name: "active_operating_hours", checked: Boolean(project.activeOperatingHours), disabled });
  const editor = hoursEditor(project.operatingHours, { disabled });
  const message = h("textarea", { class: "input", name: "off_hours_message", rows: 3, maxlength: 2000, disabled,
    placeholder: "We are closed right now. Leave your message and we will answer when we are back.",
    value: settings.off_hours_message || "" });
  const reply = h("input", { class: "input", type: "number", name: "expected_reply_minutes", min: 0, max: 10080, disabled,
    value: settings.expected_reply_minutes ?? "", placeholder: "5 (default)" });
  const status = h("p", { class: "form-note", role: "status", hidden: true });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });

  async function save(event) {
    event.preventDefault();
    status.hidden = error.hidden = true;
    const changes = { off_hours_message: message.value.trim() };
    if (reply.value !== "") changes.expected_reply_minutes = Number(reply.value);
    try {
      const saved = await put(`/projects/${ctx.pid}`, {
        activeOperatingHours: active.checked, operatingHours: editor.value(), settings: changes,
      });
      status.textContent = "Saved.";
      status.hidden = false;
      onSaved(saved);
    } catch (failure) {
      error.textContent = errorText(failure);
      error.hidden = false;
    }
  }

  return h("section", { class: "card", id: "hours" },
    h("h2", { class: "card-title" }, "Opening hours"),
    h("p", { class: "muted" }, "Outside these hours the widget says you are closed and when you reply; visitors can still write, and each new conversation opens with the off-hours message."),
    h("form", { class: "hours-form", onSubmit: save },
      h("label", { class: "choice" }, active,
        h("span", {}, h("strong", {}, "Use opening hours"), h("span", { class: "muted" }, "Off: always open."))),
      editor.element,
      h("label", { class: "form-field" }, h("span", {}, "Off-hours message"), message,
        h("span", { class: "muted" }, "Sent as a line in each conversation opened while you are closed. Empty: the default text.")),
      h("label", { class: "form-field" }, h("span", {}, "Usual reply time while open (minutes)"), reply),
      error, status,
      ctx.isAdmin ? h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary", type: "submit" }, "Save opening hours")) : null));
}

// E-mail to visitors: continuity e-mails, transcripts, the page that reopens the chat, and
// why none of it works while the server has no SMTP.
export function emailCard(ctx, project, { onSaved }) {
  const settings = project.settings || {};
  const disabled = !ctx.isAdmin;
  const notice = h("div", {});
  emailDelivery(ctx.pid).then((delivery) => replace(notice, emailOffNotice(delivery)));
  // unset: the server's default (continuity e-mails on, transcripts off)
  const check = (name, title, text, byDefault) => h("label", { class: "choice" },
    h("input", { type: "checkbox", name, checked: settings[name] ?? byDefault, disabled,
      onChange: (event) => save({ [name]: event.target.checked }) }),
    h("span", {}, h("strong", {}, title), h("span", { class: "muted" }, text)));
  const page = h("input", { class: "input", type: "url", name: "widget_page_url", disabled,
    placeholder: "https://www.example.com/help", value: settings.widget_page_url || "" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });

  async function save(changes) {
    error.hidden = true;
    try {
      onSaved(await put(`/projects/${ctx.pid}`, { settings: changes }));
    } catch (failure) {
      error.textContent = errorText(failure);
      error.hidden = false;
    }
  }

  return h("section", { class: "card", id: "visitor-email" },
    h("h2", { class: "card-title" }, "E-mail to visitors"),
    h("p", { class: "muted" }, "Only to addresses that are proven: signed by your backend, or confirmed by the visitor with a one-time code. A typed address never receives conversation content."),
    notice,
    check("continuity_emails", "E-mail replies to visitors who left", "One e-mail per absence, with the new replies and a single-use link back to the conversation.", true),
    check("transcript_on_close", "E-mail a transcript when a conversation closes", "In order, without private notes.", false),
    h("form", { class: "row", onSubmit: (event) => { event.preventDefault(); save({ widget_page_url: page.value.trim() }); } },
      h("label", { class: "form-field grow" }, h("span", {}, "Page where the link reopens the chat"), page),
      ctx.isAdmin ? h("button", { class: "btn", type: "submit" }, "Save") : null),
    error);
}

// A department's rules, behind a "Rules" button in its row. The form is built when first
// opened, so its own hours start from the project's time zone as saved by then.
//   project(): the project now; onSaved(): reload the list.
export function departmentRules(ctx, department, { project, onSaved }) {
  const details = h("details", { class: "department-rules", dataset: { department: department._id } },
    h("summary", { class: "btn btn-ghost btn-small" }, "Rules"));
  details.addEventListener("toggle", () => {
    if (details.open && details.children.length === 1) details.append(rulesForm(ctx, department, project(), onSaved));
  });
  return details;
}

function rulesForm(ctx, department, project, onSaved) {
  const disabled = !ctx.isAdmin;
  const tier = h("select", { class: "select", name: "minTier", "aria-label": `Minimum tier for ${department.name}`, disabled },
    TIERS.map(([value]) => h("option", { value, selected: (department.minTier || "anonymous") === value }, tierLabel(value))));
  const explain = h("p", { class: "muted tier-explain" });
  const showExplain = () => { explain.textContent = TIERS.find(([v]) => v === tier.value)[1]; };
  tier.addEventListener("change", showExplain);
  showExplain();
  const own = h("input", { type: "checkbox", checked: Boolean(department.operatingHours), disabled });
  const editor = hoursEditor(department.operatingHours, { disabled, label: `${department.name} opening hours`,
    defaultZone: project.operatingHours && project.operatingHours.tzname });
  editor.element.hidden = !own.checked;
  own.addEventListener("change", () => { editor.element.hidden = !own.checked; });
  const message = h("textarea", { class: "input", rows: 2, maxlength: 2000, disabled, name: "offHoursMessage",
    placeholder: "Empty: the project's off-hours message", value: department.offHoursMessage || "" });
  const error = h("p", { class: "form-error", role: "alert", hidden: true });

  async function save(event) {
    event.preventDefault();
    error.hidden = true;
    try {
      await put(`/${ctx.pid}/departments/${department._id}`, {
        minTier: tier.value,
        operatingHours: own.checked ? editor.value() : null,
        offHoursMessage: message.value.trim() || null,
      });
      onSaved();
    } catch (failure) {
      error.textContent = errorText(failure);
      error.hidden = false;
    }
  }

  return h("form", { class: "department-rules-form", onSubmit: save },
    h("label", { class: "form-field" }, h("span", {}, "Minimum trust tier"), tier, explain),
    h("label", { class: "choice" }, own,
      h("span", {}, h("strong", {}, "Own opening hours"), h("span", { class: "muted" }, "Off: the project's hours apply."))),
    editor.element,
    h("label", { class: "form-field" }, h("span", {}, "Off-hours message"), message),
    error,
    ctx.isAdmin ? h("div", { class: "form-actions" }, h("button", { class: "btn btn-primary btn-small", type: "submit" }, "Save rules")) : null);
}

// The rule shown in a department's row.
export function departmentTierPill(department) {
  const tier = department.minTier || "anonymous";
  if (tier === "anonymous") return null;
  return h("span", { class: `pill tier-pill tier-${tier}`, title: TIERS.find(([v]) => v === tier)[1] },
    `${tierLabel(tier)} only`);
}
