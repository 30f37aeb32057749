// Small enhancements on top of htmx. The pages work without this file.
(function () {
  "use strict";
  // After an action updates a part of the page in place, the button that was pressed may be gone: move the
  // keyboard focus to the confirmation or error message, or else to the first field in error, so that
  // keyboard and screen-reader users keep their place and hear the outcome.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.target;
    if (swapped && !swapped.isConnected && swapped.id) {
      swapped = document.getElementById(swapped.id); // replaced by an outerHTML swap
    }
    var scope = swapped && swapped.isConnected ? swapped : document;
    var target = scope.querySelector("[data-focus-after-swap], [aria-invalid='true']");
    if (target) {
      target.focus();
    }
  });
})();
