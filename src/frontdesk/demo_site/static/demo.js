// The demo shop's own page script: its "log in" asks the shop's backend for a signed
// visitor token and hands it to the widget.
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var loggedIn = document.getElementById("logged-in");
  var identity = document.getElementById("identity");

  function show(user) {
    var authenticated = Boolean(user && user.isAuthenticated);
    form.hidden = authenticated;
    loggedIn.hidden = !authenticated;
    document.getElementById("account-name").textContent = authenticated ? user.fullName : "";
    if (!user) identity.textContent = "Not signed in yet: open the chat to start.";
    else if (authenticated) identity.textContent = "Verified customer " + user.fullName + " (id " + user._id + "). Agents see a shield.";
    else identity.textContent = "Anonymous visitor " + user.fullName + " (id " + user._id + "). What you type about yourself is marked self-reported.";
  }

  window.frontdesk.on("onAuthStateChanged", function (event) {
    show(event.detail.user);
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    fetch("/demo/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: data.get("name"), email: data.get("email") }),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("login failed");
        return response.json();
      })
      .then(function (body) {
        return window.frontdesk.signInWithCustomToken(body.token);
      })
      .catch(function (error) {
        identity.textContent = "Could not log in: " + error.message;
      });
  });

  document.getElementById("logout").addEventListener("click", function () {
    window.frontdesk.logout();
  });
})();
