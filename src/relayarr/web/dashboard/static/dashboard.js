// relayarr dashboard: live updates of the queue page over the /api/v1/events WebSocket,
// and the small conveniences of the other pages. Text from the server is only ever put
// into the page with textContent or element properties, never parsed as HTML.

const FINISHED_SHOWN = 20;
const STATE_INTERVAL_MS = 1000; // counts are fetched again at most once a second
const MAX_RECONNECT_MS = 10000;

function formatTime(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  return date.toISOString().replace("T", " ").slice(0, 19) + " UTC";
}

function cloneTemplate(id) {
  return document.getElementById(id).content.firstElementChild.cloneNode(true);
}

function jobLink(anchor, id) {
  anchor.href = "/jobs/" + Number(id);
  anchor.textContent = "#" + Number(id);
}

function setTime(element, iso) {
  element.dateTime = iso || "";
  element.textContent = formatTime(iso);
}

class LiveQueue {
  constructor(body) {
    this.after = Number(body.dataset.after);
    this.stream = body.dataset.stream;
    this.shown = Number(body.dataset.shown);
    this.status = document.getElementById("live");
    this.lists = {
      running: document.querySelector("#running tbody"),
      pending: document.querySelector("#pending tbody"),
    };
    this.finished = document.getElementById("finished");
    this.rows = new Map(); // job id -> {row, list}
    for (const [list, tbody] of Object.entries(this.lists)) {
      for (const row of tbody.rows) this.rows.set(Number(row.dataset.id), { row, list });
    }
    this.inbox = [];
    this.flushScheduled = false;
    this.stateWanted = false;
    this.stateBusy = false;
    this.stateTimer = null;
    this.lastStateAt = 0;
    this.reconnectMs = 500;
    this.socket = null;
    this.handled = 0; // events applied, for the benchmark
  }

  // -- the connection -------------------------------------------------------------------

  connect() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const query = new URLSearchParams({ after: String(this.after), stream: this.stream });
    const socket = new WebSocket(`${scheme}//${location.host}/api/v1/events?${query}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      this.reconnectMs = 500;
      this.setStatus("live", "live");
    });
    socket.addEventListener("message", (message) => this.receive(message.data));
    socket.addEventListener("close", (event) => this.closed(event));
  }

  closed(event) {
    this.socket = null;
    if (event.code === 4401) {
      this.setStatus("down", "session ended: reload the page to log in again");
      return;
    }
    this.setStatus("down", "disconnected; reconnecting…");
    setTimeout(() => this.connect(), this.reconnectMs);
    this.reconnectMs = Math.min(this.reconnectMs * 2, MAX_RECONNECT_MS);
  }

  setStatus(state, text) {
    this.status.dataset.state = state;
    this.status.textContent = text;
  }

  receive(text) {
    let event;
    try {
      event = JSON.parse(text);
    } catch {
      return;
    }
    if (typeof event.id === "number") this.after = event.id;
    if (event.kind === "hello" && event.data) this.stream = String(event.data.stream);
    this.inbox.push(event);
    this.scheduleFlush();
  }

  // Events are applied once per animation frame, however many arrived; a hidden tab gets
  // no frames, so it applies them on a timer instead of letting them pile up.
  scheduleFlush() {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    if (document.hidden) setTimeout(() => this.flush(), 250);
    else requestAnimationFrame(() => this.flush());
  }

  flush() {
    this.flushScheduled = false;
    const batch = this.inbox;
    this.inbox = [];
    for (const event of batch) this.apply(event);
    this.handled += batch.length;
    if (this.stateWanted) this.scheduleState();
  }

  // -- applying one event ----------------------------------------------------------------

  apply(event) {
    const id = event.job_id;
    const data = event.data || {};
    switch (event.kind) {
      case "added":
        if (!this.rows.has(id)) this.addPending(id, event.job_type, data.priority, data.run_at, data.retried ? "queued again" : "");
        break;
      case "started":
        this.remove(id);
        this.addRunning(id, event.job_type, data.attempt, event.at);
        break;
      case "progress":
        this.progress(id, data.fraction, data.message);
        return; // counts do not change
      case "retrying":
        this.remove(id);
        this.addPending(id, event.job_type, "", data.retry_at, `attempt ${data.attempt} failed: ${data.error ?? ""}`);
        break;
      case "recovered":
        this.remove(id);
        this.addPending(id, event.job_type, "", event.at, "rescued from a dead worker");
        break;
      case "completed":
      case "failed":
      case "cancelled":
        this.remove(id);
        this.addFinished(id, event.job_type, event.kind, data);
        break;
      case "gap":
        this.resync();
        break;
      case "breaker":
        break;
      default:
        return;
    }
    this.stateWanted = true;
  }

  insertByIdDescending(list, id, row) {
    const tbody = this.lists[list];
    let before = null;
    for (const existing of tbody.rows) {
      if (Number(existing.dataset.id) < id) {
        before = existing;
        break;
      }
    }
    tbody.insertBefore(row, before);
    this.rows.set(id, { row, list });
    while (tbody.rows.length > this.shown) {
      const last = tbody.rows[tbody.rows.length - 1];
      this.rows.delete(Number(last.dataset.id));
      last.remove();
    }
  }

  addPending(id, type, priority, due, what) {
    if (typeof id !== "number") return;
    const row = cloneTemplate("row-pending");
    row.dataset.id = String(id);
    jobLink(row.querySelector("a"), id);
    row.querySelector(".type").textContent = type ?? "";
    row.querySelector(".priority").textContent = priority ?? "";
    setTime(row.querySelector("time"), due);
    row.querySelector(".what").textContent = what;
    this.insertByIdDescending("pending", id, row);
  }

  addRunning(id, type, attempt, at) {
    if (typeof id !== "number") return;
    const row = cloneTemplate("row-running");
    row.dataset.id = String(id);
    jobLink(row.querySelector("a"), id);
    row.querySelector(".type").textContent = type ?? "";
    row.querySelector(".attempt").textContent = attempt ?? "";
    setTime(row.querySelector("time"), at);
    this.insertByIdDescending("running", id, row);
  }

  progress(id, fraction, message) {
    const entry = this.rows.get(id);
    if (!entry || entry.list !== "running") return;
    const bar = entry.row.querySelector("progress");
    if (typeof fraction === "number") bar.value = fraction;
    entry.row.querySelector(".message").textContent = message ?? "";
  }

  remove(id) {
    const entry = this.rows.get(id);
    if (!entry) return;
    entry.row.remove();
    this.rows.delete(id);
  }

  addFinished(id, type, kind, data) {
    if (typeof id !== "number") return;
    const item = cloneTemplate("row-finished");
    jobLink(item.querySelector("a"), id);
    item.querySelector(".type").textContent = type ?? "";
    const badge = item.querySelector(".badge");
    badge.textContent = kind;
    badge.classList.add("s-" + kind);
    const details = [];
    if (typeof data.attempt === "number") details.push(`attempt ${data.attempt}`);
    if (typeof data.duration_ms === "number") details.push(`${Math.round(data.duration_ms)} ms`);
    item.querySelector(".detail").textContent = details.join(", ");
    item.querySelector(".error-text").textContent = data.error ?? "";
    this.finished.prepend(item);
    while (this.finished.children.length > FINISHED_SHOWN) this.finished.lastElementChild.remove();
    document.getElementById("finished-empty").hidden = true;
  }

  // -- counts and breakers: asked for after events, at most once a second ----------------

  scheduleState() {
    if (this.stateBusy || this.stateTimer !== null) return;
    const wait = Math.max(0, this.lastStateAt + STATE_INTERVAL_MS - Date.now());
    this.stateTimer = setTimeout(() => {
      this.stateTimer = null;
      this.refreshState();
    }, wait);
  }

  async refreshState() {
    this.stateWanted = false;
    this.stateBusy = true;
    this.lastStateAt = Date.now();
    try {
      const response = await fetch("/ui/state", { headers: { Accept: "application/json" } });
      if (response.ok) this.renderState(await response.json());
    } catch {
      // the socket's close handler reports a lost server; the next event asks again
    } finally {
      this.stateBusy = false;
      if (this.stateWanted) this.scheduleState();
    }
  }

  renderState(state) {
    const stats = state.stats;
    const tbody = document.querySelector("#counts tbody");
    const seen = new Set();
    for (const [name, counts] of Object.entries(stats.by_type)) {
      seen.add(name);
      let row = null;
      for (const candidate of tbody.rows) if (candidate.dataset.type === name) row = candidate;
      if (!row) {
        row = cloneTemplate("row-count");
        row.dataset.type = name;
        row.querySelector("th").textContent = name;
        tbody.append(row);
      }
      fillCounts(row, counts);
    }
    for (const row of [...tbody.rows]) if (!seen.has(row.dataset.type)) row.remove();
    fillCounts(document.querySelector("#counts tfoot tr"), stats.totals);
    document.getElementById("running-count").textContent = stats.totals.processing;
    document.getElementById("pending-count").textContent = stats.totals.pending;
    document.getElementById("last-minute").textContent = stats.finished_last_minute;
    const oldest = stats.oldest_pending_age;
    document.getElementById("oldest").textContent = oldest === null ? "none" : `${oldest.toFixed(1)} s`;
    this.renderBreakers(state.breakers);
  }

  renderBreakers(breakers) {
    const table = document.getElementById("breakers");
    const tbody = table.querySelector("tbody");
    const rows = breakers.map((breaker) => {
      const row = cloneTemplate("row-breaker");
      row.querySelector(".name").textContent = breaker.name;
      const badge = row.querySelector(".badge");
      badge.textContent = breaker.phase;
      badge.classList.add("b-" + breaker.phase);
      row.querySelector(".failures").textContent = breaker.failures;
      row.querySelector(".until").textContent = breaker.reopen_at ? formatTime(breaker.reopen_at) : "";
      return row;
    });
    tbody.replaceChildren(...rows);
    table.hidden = rows.length === 0;
    document.getElementById("no-breakers").hidden = rows.length !== 0;
  }

  // After a gap (this page fell too far behind) the lists are read again whole.
  async resync() {
    try {
      const response = await fetch("/ui/active", { headers: { Accept: "application/json" } });
      if (!response.ok) return;
      const active = await response.json();
      for (const tbody of Object.values(this.lists)) tbody.replaceChildren();
      this.rows.clear();
      for (const job of active.running) this.addRunning(job.id, job.type, job.attempts, job.started_at);
      for (const job of active.pending) this.addPending(job.id, job.type, job.priority, job.run_at, job.summary);
    } catch {
      // retried at the next gap or reconnect
    }
  }
}

function fillCounts(row, counts) {
  for (const cell of row.querySelectorAll("td[data-status]")) {
    cell.textContent = counts[cell.dataset.status] ?? 0;
  }
}

function initSelectAll() {
  const all = document.querySelector("[data-select-all]");
  if (!all) return;
  all.addEventListener("change", () => {
    for (const box of document.querySelectorAll("input[data-retry]")) box.checked = all.checked;
  });
}

function main() {
  initSelectAll();
  if (document.body.dataset.live === "queue") {
    const live = new LiveQueue(document.body);
    window.relayarrLive = live; // inspected by the browser tests and the benchmark
    live.connect();
  }
}

main();
