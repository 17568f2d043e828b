// Tabs of a workspace page (Bootstrap): the tab named in the address (#corrections) opens on load,
// and the address follows the open tab, so a link or a reload lands on the same tab.
document.addEventListener("DOMContentLoaded", function () {
  if (typeof bootstrap === "undefined") { return; }
  var open = function (hash) {
    var button = hash && document.querySelector('[data-bs-toggle="tab"][data-bs-target="' + hash + '"]');
    if (button) { bootstrap.Tab.getOrCreateInstance(button).show(); }
  };
  var list = document.querySelector("[data-open-tab]");
  open(window.location.hash || (list && list.dataset.openTab));
  document.querySelectorAll('[data-bs-toggle="tab"]').forEach(function (button) {
    button.addEventListener("shown.bs.tab", function () {
      history.replaceState(null, "", button.dataset.bsTarget);
    });
  });
  window.addEventListener("hashchange", function () { open(window.location.hash); });
});
