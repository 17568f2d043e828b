// "Copy" buttons without inline handlers (the Content-Security-Policy allows no inline script):
// <button data-copy-from="element-id">Copy</button> copies that element's value.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-copy-from]");
  if (!button) return;
  var source = document.getElementById(button.getAttribute("data-copy-from"));
  if (source && navigator.clipboard) navigator.clipboard.writeText(source.value);
});
