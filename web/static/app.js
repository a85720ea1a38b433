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

// Live updates (Server-Sent Events). The pages are complete without them; these only keep them fresh.
const FINAL = ["completed", "partial", "failed", "canceled", "timed_out"];
const ICONS = {completed: "✓", partial: "◐", failed: "✕", canceled: "⊘", timed_out: "⏱", running: "▶", queued: "•",
               paused: "❚❚", awaiting_review: "✎"};

function setStatus(el, status) {
  if (!el) return;
  el.className = "status status-" + status;
  el.textContent = (ICONS[status] || "•") + " " + status.replace("_", " ");
}

function follow(url, handlers) {
  if (!url || !window.EventSource) return;
  const source = new EventSource(url);
  for (const [type, handle] of Object.entries(handlers)) {
    source.addEventListener(type, (event) => handle(JSON.parse(event.data), source));
  }
}

function followRun(root) {
  const log = document.querySelector("ol.log");
  const steps = document.querySelector("table.steps tbody");
  follow(root.dataset.events, {
    status: (data, source) => {
      setStatus(document.querySelector("[data-run-status]"), data.status);
      if (FINAL.includes(data.status) || data.status === "awaiting_review") {
        source.close();
        window.setTimeout(() => window.location.reload(), 400);  // results and credits render server-side
      }
    },
    progress: (data) => {
      const bar = document.querySelector("progress[data-run-progress]");
      if (bar && data.progress_total) { bar.max = data.progress_total; bar.value = data.progress_done; bar.hidden = false; }
      const text = document.querySelector("[data-progress-text]");
      if (text) text.textContent = data.progress_done + " / " + data.progress_total;
    },
    step: (data) => {
      if (!steps) return;
      const key = data.attempt + "-" + data.position;
      let row = steps.querySelector(`tr[data-step="${key}"]`);
      if (!row) {
        steps.querySelector("tr.empty")?.remove();
        row = document.createElement("tr");
        row.dataset.step = key;
        for (let i = 0; i < 6; i++) row.appendChild(document.createElement("td"));
        steps.appendChild(row);
      }
      const cells = row.children;
      cells[0].textContent = data.position;
      cells[1].textContent = data.name;
      cells[2].innerHTML = "";
      const badge = document.createElement("span");
      badge.className = "badge step-" + data.status;
      badge.textContent = data.status;
      cells[2].appendChild(badge);
      if (data.duration_ms !== undefined) cells[3].textContent = data.duration_ms + " ms";
      cells[4].textContent = data.retries || 0;
      cells[5].textContent = data.attempt;
    },
    log: (data) => {
      if (!log) return;
      for (const line of data.lines) {
        const item = document.createElement("li");
        item.className = "lvl-" + line.level;
        item.textContent = line.message;
        log.appendChild(item);
      }
      const count = document.querySelector("[data-log-count]");
      if (count) count.textContent = log.children.length + " lines";
    },
  });
}

function followList(root) {
  follow(root.dataset.listEvents, {
    status: (data) => {
      const row = document.querySelector(`tr[data-run="${data.run}"]`);
      if (!row) { document.querySelector("[data-new-runs]")?.removeAttribute("hidden"); return; }
      setStatus(row.querySelector(".status"), data.status);
      if (FINAL.includes(data.status)) row.querySelector("progress")?.remove();
    },
    progress: (data) => {
      const row = document.querySelector(`tr[data-run="${data.run}"]`);
      if (!row || !data.progress_total) return;
      let bar = row.querySelector("progress");
      if (!bar) { bar = document.createElement("progress"); row.querySelector(".status").after(bar); }
      bar.max = data.progress_total; bar.value = data.progress_done;
    },
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const run = document.querySelector("[data-events]");
  if (run) followRun(run);
  const list = document.querySelector("[data-list-events]");
  if (list) followList(list);
});
