// Live password hints: asks the server which rules a candidate breaks (debounced).
// Our own script; the page works without it (the server checks again on submit).
(function () {
  "use strict";
  var field = document.querySelector("input[data-verifier]");
  var out = document.getElementById("retour-regles");
  var csrf = document.querySelector("input[name=csrf]");
  if (!field || !out || !csrf) { return; }
  var timer = null;
  field.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(function () {
      if (!field.value) { out.textContent = ""; return; }
      var body = new URLSearchParams({ mot_de_passe: field.value, csrf: csrf.value });
      fetch(field.getAttribute("data-verifier"), {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Content-Type": "application/x-www-form-urlencoded" }
      }).then(function (r) { return r.json(); }).then(function (data) {
        var reasons = data.reasons || [];
        out.classList.toggle("ok", reasons.length === 0);
        out.textContent = reasons.length ? reasons.join(" · ") : (document.documentElement.lang === "en" ? "All rules are met." : "Toutes les règles sont respectées.");
      }).catch(function () { out.textContent = ""; });
    }, 300);
  });
})();
