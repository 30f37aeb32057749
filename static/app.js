// Small enhancements on top of htmx. The pages work without this file.
(function () {
  "use strict";
  // After an action updates a part of the page in place, the button that was pressed may be gone: move the
  // keyboard focus to the confirmation or error message, or else to the first field in error, so that
  // keyboard and screen-reader users keep their place and hear the outcome. A confirmation may have come into
  // the page's live region (#notices, swapped out of band); it takes the focus once, so that a later swap
  // elsewhere (a preview) does not send the focus back to it.
  document.addEventListener("htmx:afterSwap", function (event) {
    var swapped = event.detail.target;
    if (swapped && !swapped.isConnected && swapped.id) {
      swapped = document.getElementById(swapped.id); // replaced by an outerHTML swap
    }
    var scope = swapped && swapped.isConnected ? swapped : document;
    var target = scope.querySelector("[data-focus-after-swap], [aria-invalid='true']") ||
      document.querySelector("#notices [data-focus-after-swap]");
    if (target) {
      target.focus();
      target.removeAttribute("data-focus-after-swap");
    }
  });

  // The status form: show the fields of the chosen status only (without JavaScript, all show, each saying
  // which status it is for). Run on load and after every swap, since the form comes back with the thread.
  function showStatusFields(root) {
    (root || document).querySelectorAll("select[name='status']").forEach(function (select) {
      var form = select.form;
      function update() {
        form.querySelectorAll("[data-for-status]").forEach(function (group) {
          var wanted = group.getAttribute("data-for-status").split(" ");
          group.hidden = select.value === "" || wanted.indexOf(select.value) === -1;
        });
      }
      if (!select.dataset.statusFields) {
        select.dataset.statusFields = "on";
        select.addEventListener("change", update);
      }
      update();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { showStatusFields(document); });
  document.addEventListener("htmx:load", function (event) { showStatusFields(event.detail.elt); });
})();
