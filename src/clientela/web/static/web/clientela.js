/* Site-wide behaviour. A form sent back with errors puts the keyboard on its first invalid field, on
   a full page and after an htmx swap, so that nobody has to hunt for what to correct. */
(function () {
  "use strict";

  function focusFirstInvalid(root) {
    const field = root.querySelector("[aria-invalid=true], .is-invalid");
    if (field && typeof field.focus === "function") field.focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    const main = document.getElementById("main");
    if (main) focusFirstInvalid(main);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail.xhr && event.detail.xhr.status === 422) focusFirstInvalid(event.detail.target);
  });
})();
