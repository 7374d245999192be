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
    body.appendChild(row);
  }
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
}

function showLogin() {
  clearInterval(timer);
  if (feed) feed.close();
  me = null;
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
start();
