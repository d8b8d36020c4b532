// The server's own chat page (/widget/chat.html?project=<id>), where the link of a reply
// e-mail leads when the project names no page of its own: the widget, open at once.
(function () {
  "use strict";
  var project = new URLSearchParams(window.location.search).get("project");
  if (project) window.frontdeskSettings = { projectid: project, isOpen: true };
})();
