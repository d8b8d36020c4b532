// The demo shop's own page script. Its "log in" is the shop's: the shop remembers the account
// (for this tab) and, unless told not to, asks its backend for a signed visitor token and hands
// it to the widget. When an agent asks the visitor to verify (onVerificationRequested), a
// logged-in shop signs the visitor in to the chat at once: the step-up.
(function () {
  "use strict";
  var ACCOUNT_KEY = "demo-shop:account";
  var form = document.getElementById("login-form");
  var loggedIn = document.getElementById("logged-in");
  var identity = document.getElementById("identity");
  var stepUp = document.getElementById("step-up");

  function account() {
    try {
      return JSON.parse(sessionStorage.getItem(ACCOUNT_KEY) || "null");
    } catch (error) {
      return null;
    }
  }

  function showAccount() {
    var current = account();
    form.hidden = Boolean(current);
    loggedIn.hidden = !current;
    document.getElementById("account-name").textContent = current ? current.name : "";
  }

  function showChatUser(user) {
    var authenticated = Boolean(user && user.isAuthenticated);
    if (!user) identity.textContent = "Not signed in yet: open the chat to start.";
    else if (authenticated) identity.textContent = "Verified customer " + user.fullName + " (id " + user._id + "). Agents see a shield.";
    else identity.textContent = "Anonymous visitor " + user.fullName + " (id " + user._id + "). What you type about yourself is marked self-reported.";
  }

  // The shop's backend signs a token for the account; the widget exchanges it.
  function signInToChat(current) {
    return fetch("/demo/api/login", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ name: current.name, email: current.email }),
    })
      .then(function (response) {
        if (!response.ok) throw new Error("login failed");
        return response.json();
      })
      .then(function (body) {
        return window.frontdesk.signInWithCustomToken(body.token);
      });
  }

  window.frontdesk.on("onAuthStateChanged", function (event) {
    showChatUser(event.detail.user);
  });

  window.frontdesk.on("onVerificationRequested", function (event) {
    var current = account();
    if (!current) {
      stepUp.hidden = false;
      stepUp.textContent = "An agent asked you to verify. Log in to the shop above, or confirm your e-mail in the chat.";
      return;
    }
    stepUp.hidden = false;
    stepUp.textContent = "An agent asked you to verify: the shop is signing you in to the chat as " + current.name + "…";
    signInToChat(current)
      .then(function () {
        stepUp.textContent = "Verified for the agent as " + current.name + ".";
      })
      .catch(function (error) {
        stepUp.textContent = "Could not sign you in to the chat: " + error.message;
      });
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(form);
    var current = { name: String(data.get("name")), email: String(data.get("email")) };
    sessionStorage.setItem(ACCOUNT_KEY, JSON.stringify(current));
    showAccount();
    if (!data.get("tell_chat")) return;
    signInToChat(current).catch(function (error) {
      identity.textContent = "Could not log in: " + error.message;
    });
  });

  document.getElementById("logout").addEventListener("click", function () {
    sessionStorage.removeItem(ACCOUNT_KEY);
    showAccount();
    window.frontdesk.logout();
  });

  showAccount();
})();
