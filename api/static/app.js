"use strict";
// The control-room overview: sign in, then the overview, open alarms and meters, redrawn
// every few seconds and at once when the live feed reports an alarm or command change.
const API = "/api/v1";
const REFRESH_MS = 5000;
const RANK = { viewer: 0, operator: 1, supervisor: 2, admin: 3 };
let me = null;
let timer = null;
let feed = null;

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "–";
  return new Date(ms).toLocaleString("zh-CN", { hour12: false });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

class SignedOut extends Error {}

async function api(path, options = {}) {
  const response = await fetch(API + path, {
    credentials: "same-origin",
    ...options,
    headers: { Accept: "application/json", ...(options.headers || {}) },
  });
  if (response.status === 401) throw new SignedOut();
  if (!response.ok) {
    const body = await response.json().catch(() => ({}));
    throw new Error(path + ": " + response.status + " " + JSON.stringify(body.detail ?? ""));
  }
  return response.status === 204 ? null : response.json();
}

function postJson(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
}

function drawOverview(o) {
  document.getElementById("t-meters").textContent = o.meters;
  document.getElementById("t-alarms").textContent = o.alarms_active;
  document.getElementById("t-closed").textContent = o.valves_closed;
  document.getElementById("t-readings").textContent = o.readings_stored;
  document.getElementById("t-dead").textContent = o.dead_letters;
}

function actionButtons(td, alarm) {
  if (!me || RANK[me.role] < RANK.operator) return;
  if (alarm.state === "active") {
    const ack = document.createElement("button");
    ack.textContent = "确认 Ack";
    ack.dataset.action = "ack";
    ack.addEventListener("click", () => acknowledge(alarm.id));
    td.appendChild(ack);
  }
  const clear = document.createElement("button");
  clear.textContent = "解除 Clear";
  clear.dataset.action = "clear";
  clear.addEventListener("click", () => askClear(alarm));
  td.appendChild(clear);
}

function drawAlarms(alarms) {
  const body = document.querySelector("#alarms tbody");
  body.replaceChildren();
  // Newest shut-offs first, then newest alarms.
  alarms.sort((a, b) => (a.action === "shutoff" ? 0 : 1) - (b.action === "shutoff" ? 0 : 1)
    || b.opened_ts_ms - a.opened_ts_ms);
  for (const a of alarms) {
    const row = document.createElement("tr");
    row.className = a.action;
    row.dataset.meter = a.meter_id;
    row.dataset.alarm = a.id;
    cell(row, a.id);
    cell(row, a.meter_id);
    cell(row, a.rule);
    cell(row, a.action === "shutoff" ? "关阀 shutoff" : "报警 alarm");
    cell(row, fmtTime(a.opened_ts_ms));
    cell(row, a.repeat_count);
    cell(row, a.state === "active" ? "未确认 active" : "已确认 acknowledged · " + (a.acknowledged_by ?? ""));
    cell(row, JSON.stringify(a.detail));
    actionButtons(cell(row, "", "actions"), a);
    body.appendChild(row);
  }
  document.getElementById("alarms-empty").hidden = alarms.length > 0;
}

function drawMeters(meters) {
  const order = { closed: 0, fault: 1, open: 2 };
  meters.sort((a, b) => (order[a.valve] ?? 3) - (order[b.valve] ?? 3) || a.id.localeCompare(b.id));
  const body = document.querySelector("#meters tbody");
  body.replaceChildren();
  for (const m of meters) {
    const row = document.createElement("tr");
    row.dataset.meter = m.id;
    cell(row, m.id);
    cell(row, m.model);
    cell(row, m.category);
    cell(row, m.valve ?? "–", "valve-" + (m.valve ?? "unknown"));
    cell(row, m.status ?? "–");
    cell(row, fmtTime(m.last_reading_ms));
    row.tabIndex = 0;
    row.addEventListener("click", () => openMeter(m.id));
    row.addEventListener("keydown", (event) => { if (event.key === "Enter") openMeter(m.id); });
    body.appendChild(row);
  }
}

// -- the meter page --------------------------------------------------------------------

let meterId = null;

function chart(svgId, points) {
  const svg = document.getElementById(svgId);
  svg.replaceChildren();
  const ns = "http://www.w3.org/2000/svg";
  if (points.length < 2) {
    const text = document.createElementNS(ns, "text");
    text.setAttribute("x", "10"); text.setAttribute("y", "80");
    text.textContent = "无数据 no data";
    svg.appendChild(text);
    return;
  }
  const xs = points.map((p) => p[0]), ys = points.map((p) => p[1]);
  const x0 = Math.min(...xs), x1 = Math.max(...xs), y0 = Math.min(0, ...ys), y1 = Math.max(...ys) || 1;
  const line = document.createElementNS(ns, "polyline");
  line.setAttribute("points", points.map(([x, y]) =>
    `${(10 + 580 * (x - x0) / (x1 - x0 || 1)).toFixed(1)},${(150 - 130 * (y - y0) / (y1 - y0 || 1)).toFixed(1)}`).join(" "));
  svg.appendChild(line);
  const label = document.createElementNS(ns, "text");
  label.setAttribute("x", "10"); label.setAttribute("y", "14");
  label.textContent = `max ${y1.toFixed(3)}`;
  svg.appendChild(label);
}

async function drawMeter() {
  if (!meterId) return;
  const hours = Number(document.getElementById("meter-range").value);
  const end = Date.now(), start = end - hours * 3600 * 1000;
  const id = encodeURIComponent(meterId);
  const [meter, page, commands, alarms, connections] = await Promise.all([
    api(`/meters/${id}`),
    api(`/meters/${id}/readings?start=${start}&end=${end}`),
    api(`/commands?meter_id=${id}&limit=20`),
    api(`/alarms?meter_id=${id}&limit=20`),
    api(`/connections?meter_id=${id}`),
  ]);
  document.getElementById("meter-id").textContent = meter.id;
  document.getElementById("meter-facts").textContent =
    `${meter.model} · ${meter.category} · 阀门 valve ${meter.valve ?? "–"} · ${meter.status ?? "–"} · ` +
    `最新读数 last reading ${fmtTime(meter.last_reading_ms)} · 安装 installed ${fmtTime(meter.installed_ms)}`;
  const link = connections[0];
  document.getElementById("meter-connection").textContent = link
    ? `报装 connection ${link.number} · ${link.applicant} · ${link.address} · ${link.time.state}`
    : "无关联报装 no linked connection record";
  const rows = page.readings;
  chart("chart-flow", rows.filter((r) => r.flow_m3h !== null).map((r) => [r.ts, r.flow_m3h]));
  chart("chart-pressure", rows.filter((r) => r.pressure_kpa !== null).map((r) => [r.ts, r.pressure_kpa]));
  chart("chart-volume", rows.map((r) => [r.ts, r.volume_m3]));
  const commandBody = document.querySelector("#meter-commands tbody");
  commandBody.replaceChildren();
  for (const c of commands) {
    const row = document.createElement("tr");
    row.dataset.command = c.id;
    cell(row, c.action); cell(row, c.state, "state"); cell(row, c.requested_by); cell(row, c.reason);
    cell(row, fmtTime(c.created_ms));
    commandBody.appendChild(row);
  }
  const alarmBody = document.querySelector("#meter-alarms tbody");
  alarmBody.replaceChildren();
  for (const a of alarms) {
    const row = document.createElement("tr");
    cell(row, a.id); cell(row, a.rule); cell(row, a.state); cell(row, fmtTime(a.opened_ts_ms));
    alarmBody.appendChild(row);
  }
  document.getElementById("meter-actions").querySelectorAll("button").forEach((b) => {
    b.hidden = !me || RANK[me.role] < RANK.operator;
  });
}

async function openMeter(id) {
  meterId = id;
  document.getElementById("main").hidden = true;
  document.getElementById("meter").hidden = false;
  try { await drawMeter(); } catch (error) { if (error instanceof SignedOut) showLogin(); }
}

function closeMeter() {
  meterId = null;
  document.getElementById("meter").hidden = true;
  document.getElementById("main").hidden = false;
}

function askCommand(action) {
  const dialog = document.getElementById("command-dialog");
  dialog.dataset.action = action;
  document.getElementById("command-what").textContent = action === "close"
    ? `关阀 Close the valve of ${meterId}?` : `允许用户开阀 Arm ${meterId}?`;
  document.getElementById("command-warning").textContent = action === "close"
    ? "用户将停气 The customer will have no gas until the valve is reopened at the meter." : "";
  dialog.querySelector("textarea").value = "";
  dialog.showModal();
}

async function submitCommand(event) {
  event.preventDefault();
  const dialog = document.getElementById("command-dialog");
  const reason = dialog.querySelector("textarea").value.trim();
  if (reason.length < 3) return;
  try {
    await postJson(`/meters/${encodeURIComponent(meterId)}/commands`, { action: dialog.dataset.action, reason });
    dialog.close();
  } catch (error) {
    alert(error.message);
  }
  drawMeter();
}

const TIME_STATE = {
  on_time: "正常 on time", warning: "预警 warning", overdue: "超时 overdue",
  done_in_time: "按时完成 done", done_late: "超时完成 done late",
};

function drawConnections(applications) {
  const body = document.querySelector("#connections tbody");
  body.replaceChildren();
  for (const a of applications) {
    const row = document.createElement("tr");
    row.dataset.number = a.number;
    row.className = "time-" + a.time.state;
    const unit = a.time.unit === "working" ? "工作日 wd" : "天 d";
    cell(row, a.number);
    cell(row, a.policy);
    cell(row, a.category);
    cell(row, a.gas_on_ms ? "通气 gas on" : a.surveyed_ms ? "验收通气 gas-on stage" : "用气报装 application");
    cell(row, `${a.time.used_days} / ${a.time.budget_days} ${unit}`);
    cell(row, `${a.time.left_days} ${unit}`);
    cell(row, TIME_STATE[a.time.state] ?? a.time.state);
    body.appendChild(row);
  }
  document.getElementById("connections-empty").hidden = applications.length > 0;
}

async function refresh() {
  const pill = document.getElementById("health");
  try {
    const [overview, active, acknowledged, meters, connections] = await Promise.all([
      api("/overview"),
      api("/alarms?state=active&limit=200"),
      api("/alarms?state=acknowledged&limit=200"),
      api("/meters?limit=1000"),
      api("/connections?state=open&limit=200"),
    ]);
    drawOverview(overview);
    drawAlarms(active.concat(acknowledged));
    drawMeters(meters);
    drawConnections(connections);
    pill.textContent = "在线 live · " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    pill.className = "pill ok";
  } catch (error) {
    if (error instanceof SignedOut) return showLogin();
    pill.textContent = "连接失败 API unreachable";
    pill.className = "pill bad";
  }
}

async function acknowledge(id) {
  try {
    await postJson(`/alarms/${id}/ack`, { note: "" });
  } catch (error) {
    alert(error.message);
  }
  refresh();
}

function askClear(alarm) {
  const dialog = document.getElementById("clear-dialog");
  document.getElementById("clear-which").textContent = `#${alarm.id} ${alarm.meter_id} ${alarm.rule}`;
  dialog.dataset.alarm = alarm.id;
  dialog.querySelector("textarea").value = "";
  dialog.showModal();
}

async function submitClear(event) {
  event.preventDefault();
  const dialog = document.getElementById("clear-dialog");
  const reason = dialog.querySelector("textarea").value.trim();
  if (reason.length < 3) return;
  try {
    await postJson(`/alarms/${dialog.dataset.alarm}/clear`, { reason });
    dialog.close();
  } catch (error) {
    alert(error.message);
  }
  refresh();
}

function listen() {
  if (feed) feed.close();
  feed = new EventSource(API + "/feed");
  feed.addEventListener("alarm", refresh);
  feed.addEventListener("command", refresh);
  feed.addEventListener("command", () => drawMeter().catch(() => {}));
}

function showLogin() {
  clearInterval(timer);
  if (feed) feed.close();
  me = null;
  meterId = null;
  document.getElementById("meter").hidden = true;
  document.getElementById("main").hidden = true;
  document.getElementById("sign-out").hidden = true;
  document.getElementById("who").textContent = "";
  document.getElementById("login").hidden = false;
  document.querySelector("#login-form input[name=username]").focus();
}

async function start() {
  try {
    me = await api("/auth/me");
  } catch (error) {
    return showLogin();
  }
  document.getElementById("login").hidden = true;
  document.getElementById("main").hidden = false;
  document.getElementById("sign-out").hidden = false;
  document.getElementById("who").textContent = `${me.username} · ${me.role}`;
  refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
  listen();
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch(API + "/auth/token", {
    method: "POST",
    body: new URLSearchParams(form),
    credentials: "same-origin",
  });
  const error = document.getElementById("login-error");
  if (!response.ok) {
    error.textContent = "用户名或密码错误 Wrong username or password";
    return;
  }
  error.textContent = "";
  event.target.reset();
  start();
}

async function signOut() {
  await fetch(API + "/auth/logout", { method: "POST", credentials: "same-origin" });
  showLogin();
}

document.getElementById("login-form").addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", signOut);
document.getElementById("clear-form").addEventListener("submit", submitClear);
document.getElementById("clear-cancel").addEventListener("click", () => document.getElementById("clear-dialog").close());
document.getElementById("meter-back").addEventListener("click", closeMeter);
document.getElementById("meter-range").addEventListener("change", () => drawMeter());
document.querySelectorAll("#meter-actions button[data-command]").forEach((b) =>
  b.addEventListener("click", () => askCommand(b.dataset.command)));
document.getElementById("command-form").addEventListener("submit", submitCommand);
document.getElementById("command-cancel").addEventListener("click", () => document.getElementById("command-dialog").close());
start();
