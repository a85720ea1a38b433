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

// The run page's regions (heading, actions, facts, error, review, results, steps, failed items) come back
// from the server together, so status, buttons, credits and results never disagree; panels the person
// opened (or closed) stay that way.
function keyOf(details) {
  return details.dataset.key || (details.querySelector("summary")?.textContent || "").trim();
}

async function refreshRegions() {
  let response;
  try {
    response = await fetch(window.location.href, {headers: {accept: "text/html"}, credentials: "same-origin"});
  } catch (error) {
    return false;
  }
  if (!response.ok) return false;
  const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
  const chosen = new Map();
  document.querySelectorAll("details").forEach((d) => chosen.set(keyOf(d), d.open));
  document.querySelectorAll("[data-region]").forEach((old) => {
    const next = fresh.querySelector(`[data-region="${old.dataset.region}"]`);
    if (!next) return;
    next.querySelectorAll("details").forEach((d) => { if (chosen.has(keyOf(d))) d.open = chosen.get(keyOf(d)); });
    old.replaceWith(document.importNode(next, true));
  });
  return true;
}

function followRun(root) {
  const log = document.querySelector("ol.log");
  let pending = null, latest = null;
  const refresh = () => {  // one refresh for a burst of status events; the bare status if the page cannot come
    if (pending) return;
    pending = window.setTimeout(async () => {
      pending = null;
      if (!await refreshRegions()) setStatus(document.querySelector("[data-run-status]"), latest);
    }, 150);
  };
  follow(root.dataset.events, {
    status: (data, source) => {
      latest = data.status;
      if (FINAL.includes(data.status)) source.close();
      refresh();
    },
    progress: (data) => {
      const bar = document.querySelector("progress[data-run-progress]");
      if (bar && data.progress_total) { bar.max = data.progress_total; bar.value = data.progress_done; bar.hidden = false; }
      const text = document.querySelector("[data-progress-text]");
      if (text) text.textContent = data.progress_done + " / " + data.progress_total;
      const items = document.querySelector("[data-items-so-far]");
      if (items && data.progress_total) items.textContent = data.progress_done + " of " + data.progress_total + " so far";
    },
    step: (data) => {
      const steps = document.querySelector("ol.steps-list");
      if (!steps) return;
      const key = data.attempt + "-" + data.position;
      let item = steps.querySelector(`li[data-step="${key}"]`);
      if (!item) {
        steps.querySelector("li.empty")?.remove();
        item = document.createElement("li");
        item.dataset.step = key;
        const summary = document.createElement("div");
        summary.className = "step-line";
        item.appendChild(summary);
        steps.appendChild(item);
      }
      item.className = "step step-" + data.status;
      const line = item.querySelector(".step-line") || item.querySelector("summary");
      line.textContent = "";
      for (const [cls, text] of [["step-no", data.position], ["step-name", data.name],
                                 ["badge step-" + data.status, data.status],
                                 ["muted small", data.duration_ms !== undefined ? data.duration_ms + " ms" : ""]]) {
        const span = document.createElement("span");
        span.className = cls;
        span.textContent = text;
        line.appendChild(span);
        line.appendChild(document.createTextNode(" "));
      }
    },
    log: (data) => {
      if (!log) return;
      for (const line of data.lines) {
        const item = document.createElement("li");
        item.className = "lvl-" + line.level;
        const time = document.createElement("time");  // as the server renders it: UTC, to the millisecond
        time.dateTime = data.at;
        time.textContent = new Date(data.at).toISOString().slice(11, 23);
        item.append(time, " " + line.message);
        log.appendChild(item);
      }
      const count = document.querySelector("[data-log-count]");
      if (count) count.textContent = log.children.length + (log.children.length === 1 ? " line" : " lines");
    },
  });
}

// The list: on its first page with no filters but the status tab, rows enter and leave as runs start
// and finish (the rows come back from the server); elsewhere a new run shows the "new runs" banner.
function followList(root) {
  const liveRows = root.dataset.liveRows === "1";
  const wanted = root.dataset.statuses ? root.dataset.statuses.split(",") : null;
  let pending = null;
  const reload = () => {
    if (!pending) pending = window.setTimeout(() => { pending = null; refreshRegions(); }, 300);
  };
  follow(root.dataset.listEvents, {
    status: (data) => {
      const row = document.querySelector(`tr[data-run="${data.run}"]`);
      const fits = !wanted || wanted.includes(data.status);
      if (!row || !fits) {
        if (liveRows && (fits || row)) reload();
        else if (!row && fits && data.status === "queued") document.querySelector("[data-new-runs]")?.removeAttribute("hidden");
        if (!row) return;
      }
      setStatus(row.querySelector(".status"), data.status);
      if (FINAL.includes(data.status)) {
        row.querySelector("progress")?.remove();
        row.querySelector("[data-started]")?.removeAttribute("data-started");
        const preview = row.querySelector("[data-preview]");
        if (preview && data.preview !== undefined) preview.textContent = data.preview;
        const credits = row.querySelector("[data-credits]");  // held while running, charged once finished
        if (credits) credits.textContent = data.credits_charged.toLocaleString("en");
        const items = row.querySelector("[data-items]");
        if (items) {
          items.textContent = data.items_processed + " ";
          if (data.items_failed) {
            const failed = document.createElement("span");
            failed.className = "muted";
            failed.textContent = "+" + data.items_failed + " failed";
            items.append(failed, " ");
          }
          items.append("/ " + items.dataset.scope);
        }
      } else if (data.status === "running" && data.active_since) {
        row.children[3].dataset.started = data.active_since;
      } else {
        row.children[3].removeAttribute("data-started");
      }
    },
    progress: (data) => {
      const row = document.querySelector(`tr[data-run="${data.run}"]`);
      if (!row || !data.progress_total) return;
      let bar = row.querySelector("progress");
      if (!bar) { bar = document.createElement("progress"); row.querySelector(".status").after(bar); }
      bar.max = data.progress_total; bar.value = data.progress_done;
      const items = row.querySelector("[data-items]");
      if (items) items.textContent = data.progress_done + " / " + items.dataset.scope;
    },
  });
}

document.addEventListener("DOMContentLoaded", () => {
  const run = document.querySelector("[data-events]");
  if (run) followRun(run);
  const list = document.querySelector("[data-list-events]");
  if (list) followList(list);
});

// Step values: UI tree or raw JSON, and copy the raw JSON.
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-toggle-raw], button[data-copy]");
  if (!button) return;
  const part = button.closest("details.part");
  const raw = part.querySelector(".view-raw");
  if (button.hasAttribute("data-toggle-raw")) {
    const ui = part.querySelector(".view-ui");
    raw.hidden = !raw.hidden;
    ui.hidden = !raw.hidden;
  } else if (navigator.clipboard) {
    navigator.clipboard.writeText(raw.textContent).then(() => { button.textContent = "Copied"; });
  }
});

// Copy a value shown once (a new shared link).
document.addEventListener("click", (event) => {
  const button = event.target.closest && event.target.closest("button[data-copy-value]");
  if (button && navigator.clipboard) {
    navigator.clipboard.writeText(button.dataset.copyValue).then(() => { button.textContent = "Copied"; });
  }
});

// Durations of running runs tick every second (the server renders the value at load time).
function formatDuration(ms) {
  if (ms < 1000) return ms + " ms";
  if (ms < 60000) return (ms / 1000).toFixed(1) + " s";
  return Math.floor(ms / 60000) + " min " + Math.floor((ms % 60000) / 1000) + " s";
}
window.setInterval(() => {
  document.querySelectorAll("[data-started]").forEach((cell) => {
    cell.textContent = formatDuration(Math.max(0, Date.now() - Date.parse(cell.dataset.started)));
  });
}, 1000);

// "Run an agent": choosing an agent loads its form; the estimate follows what is typed.
document.addEventListener("DOMContentLoaded", () => {
  const chooser = document.querySelector("[data-agent-chooser]");
  if (chooser) {
    chooser.querySelector("[data-no-js]")?.remove();
    chooser.querySelector("select").addEventListener("change", () => chooser.submit());
  }
  const form = document.querySelector("[data-run-form]");
  if (!form) return;
  let timer = null;
  const update = async () => {
    const params = new URLSearchParams();
    for (const [key, value] of new FormData(form)) if (key !== "_csrf_token") params.append(key, value);
    try {
      const response = await fetch(form.dataset.estimateUrl + "?" + params, {credentials: "same-origin"});
      if (response.ok) form.querySelector("[data-estimate]").innerHTML = await response.text();
    } catch (error) { /* the estimate comes back with the next change */ }
  };
  const later = (event) => {
    if (event.target.name === "inputs") form.querySelector("[data-use-raw]").checked = true;
    window.clearTimeout(timer);
    timer = window.setTimeout(update, 300);
  };
  form.addEventListener("input", later);
  form.addEventListener("change", later);
});
