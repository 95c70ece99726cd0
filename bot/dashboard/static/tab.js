// The dashboard tab in Teams: get the signed-in person's SSO token from Teams and fetch the dashboard with it.
// The server checks the token (bot/dashboard/sso.py) and the person's role; this page holds no figures until then.
// Loaded after MicrosoftTeams.min.js (@microsoft/teams-js, served by the bot itself; no CDN).
(function () {
  "use strict";
  var main = document.getElementById("dashboard");

  function say(message) {
    var p = document.createElement("p");
    p.className = "note";
    p.textContent = message;
    main.replaceChildren(p);
  }

  var outsideTeams =
    "Open the dashboard from the Supervision app in Teams: it signs you in with your school account.";
  if (!window.microsoftTeams) {
    say(outsideTeams);
    return;
  }
  // Outside Teams (a browser tab of its own) initialize() never settles: say how to open it instead of waiting.
  var waited = new Promise(function (_resolve, reject) {
    setTimeout(function () {
      reject(new Error("not in Teams"));
    }, 8000);
  });
  Promise.race([microsoftTeams.app.initialize(), waited])
    .then(function () {
      return microsoftTeams.authentication.getAuthToken();
    })
    .then(
      function (token) {
        return fetch("/dashboard/view", {
          headers: { Authorization: "Bearer " + token },
          credentials: "omit",
          cache: "no-store",
        }).then(function (response) {
          return response.text().then(function (text) {
            if (response.ok) {
              main.innerHTML = text; // the server's own page: every value in it is HTML-escaped there
            } else {
              say(text);
            }
          });
        });
      },
      function () {
        say("Teams could not sign you in to the dashboard. Close the tab and open it again.");
      }
    )
    .catch(function () {
      say(outsideTeams);
    });
})();
