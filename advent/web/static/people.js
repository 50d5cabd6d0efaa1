// "Show number" in the People list: reveal one number in place, without leaving the list.
// Without JavaScript the same form posts and opens that person's page with the number shown.
(function () {
  "use strict";
  document.querySelectorAll("form.reveal").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = form.querySelector("input[name=csrf_token]").value;
      fetch(form.action, {
        method: "POST",
        headers: { "X-CSRFToken": token, "Accept": "application/json" },
        credentials: "same-origin"
      }).then(function (answer) {
        if (!answer.ok) { throw new Error(answer.status); }
        return answer.json();
      }).then(function (data) {
        var target = document.getElementById(form.dataset.target);
        target.textContent = data.number;
        target.setAttribute("aria-live", "polite");
        form.remove();
      }).catch(function () { form.submit(); });
    });
  });
})();
