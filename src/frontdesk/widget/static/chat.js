// Settings of the stand-alone chat page: the project named in the query, the widget open.
(function () {
  "use strict";
  var project = new URLSearchParams(location.search).get("project") || "";
  if (/^[0-9a-f]{24}$/.test(project)) {
    window.frontdeskSettings = { projectid: project, open: true };
  }
})();
