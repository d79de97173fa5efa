// The header's menu is a <details> that folds away on narrow screens. On wide screens it
// is opened here (and its "Menu" button hidden by the stylesheet); without JavaScript it
// stays a working disclosure everywhere.
(function () {
  "use strict";
  var menu = document.querySelector("details.site-menu");
  if (!menu || !window.matchMedia) {
    return;
  }
  var wide = window.matchMedia("(min-width: 60rem)");
  function follow() {
    menu.open = wide.matches;
  }
  follow();
  wide.addEventListener("change", follow);
})();
