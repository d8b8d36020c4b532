// Dates, durations and names as agents read them.

export function relativeTime(iso, now = Date.now()) {
  if (!iso) return "";
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (seconds < 45) return "just now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

export function ago(iso) {
  const relative = relativeTime(iso);
  return relative === "just now" || relative === "" ? relative : `${relative} ago`;
}

export function dateTime(value) {
  if (value === null || value === undefined || value === "") return "—";
  const date = typeof value === "number" ? new Date(value * 1000) : new Date(value);
  if (Number.isNaN(date.getTime())) return String(value);
  return date.toLocaleString(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

export function clock(iso) {
  return new Date(iso).toLocaleTimeString(undefined, { hour: "2-digit", minute: "2-digit" });
}

export function duration(seconds) {
  if (seconds % 86400 === 0 && seconds >= 86400) return plural(seconds / 86400, "day");
  if (seconds % 3600 === 0 && seconds >= 3600) return plural(seconds / 3600, "hour");
  if (seconds % 60 === 0 && seconds >= 60) return plural(seconds / 60, "minute");
  return plural(seconds, "second");
}

export function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

export function personName(lead, requester) {
  const fromLead = lead && lead.fullname;
  if (fromLead) return fromLead;
  if (requester) {
    const name = [requester.firstname, requester.lastname].filter(Boolean).join(" ");
    if (name) return name;
  }
  return "Anonymous visitor";
}

export function agentName(member) {
  const user = member && member.id_user;
  if (!user) return "Unknown agent";
  return user.fullName || [user.firstname, user.lastname].filter(Boolean).join(" ") || user.email;
}

