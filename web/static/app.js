// Behaviour for server-rendered pages, kept out of the markup so the CSP can forbid inline script.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset && event.target.dataset.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
document.addEventListener("click", (event) => {
  if (event.target.matches && event.target.matches("input[data-select]")) event.target.select();
});
document.addEventListener("change", (event) => {
  const all = event.target;
  if (!all.matches || !all.matches("input[data-select-all]")) return;
  all.form.querySelectorAll('input[name="result_ids"]').forEach((box) => { box.checked = all.checked; });
});
