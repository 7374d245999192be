"use strict";
// The control room: sign in; the overview, open alarms, connection records, the indicator
// report and the meters, redrawn every few seconds and at once when the live feed reports
// an alarm or command change; a page per meter and per connection record. Keyboard: 1-5
// views, arrows move between rows, Enter opens, a/s/m/c act on an alarm, Esc goes back.
const API = "/api/v1";
const REFRESH_MS = 5000;
const RANK = { viewer: 0, operator: 1, supervisor: 2, admin: 3 };
const PAGE_SIZE = { alarms: 50, connections: 50, meters: 100 };
const pages = { alarms: 0, connections: 0, meters: 0 };
let me = null;
let timer = null;
let feed = null;

// -- small helpers ----------------------------------------------------------------------

// Times in China Standard Time whatever the browser's zone: the deadlines are the law's
// local times (UTC+8), and every time on the page is read against them.
const ZONE = { timeZone: "Asia/Shanghai", hour12: false };

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "–";
  return new Date(ms).toLocaleString("zh-CN", ZONE);
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
  return td;
}

// Redraws a table body; the row that had the keyboard focus keeps it (same data-* keys),
// so a refresh every few seconds never throws a keyboard user out of the list.
function rows(tableId, items, draw) {
  const body = document.querySelector(`#${tableId} tbody`);
  const focused = body.contains(document.activeElement) && document.activeElement.tagName === "TR"
    ? JSON.stringify({ ...document.activeElement.dataset }) : null;
  const drawn = items.map((item) => {
    const row = document.createElement("tr");
    draw(row, item);
    return row;
  });
  body.replaceChildren(...drawn);
  const again = focused && drawn.find((row) => JSON.stringify({ ...row.dataset }) === focused);
  if (again) again.focus();
}

function may(role) {
  return me !== null && RANK[me.role] >= RANK[role];
}

function showByRole(container) {
  container.querySelectorAll("[data-role]").forEach((b) => { b.hidden = !may(b.dataset.role); });
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
    const detail = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail ?? "");
    throw new Error(`${response.status}: ${detail}`);
  }
  return response.status === 204 ? null : response.json();
}

function postJson(path, body) {
  return api(path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body ?? {}),
  });
}

// -- the one dialog that asks the operator for words --------------------------------------

// ask({title, warning, label, okLabel, required, users}) -> {text, username} or null.
// ``submit`` is called with the answer; an error it throws is shown in the dialog, which
// stays open so that nothing typed is lost.
function ask(options, submit) {
  const dialog = document.getElementById("ask-dialog");
  const text = dialog.querySelector("textarea");
  const userLabel = document.getElementById("ask-user");
  const select = userLabel.querySelector("select");
  document.getElementById("ask-title").textContent = options.title;
  document.getElementById("ask-warning").textContent = options.warning ?? "";
  document.getElementById("ask-label").textContent = options.label;
  document.getElementById("ask-ok").textContent = options.okLabel ?? "确定 OK";
  document.getElementById("ask-error").textContent = "";
  text.value = "";
  text.required = options.required ?? false;
  text.minLength = options.minLength ?? (text.required ? 3 : 0);
  // a choice: an assignee (options.users) or one of options.choices ({value, label})
  const choices = options.choices ?? (options.users ?? []).map((u) => ({
    value: u.username, label: `${u.username} · ${u.role}`, selected: me && u.username === me.username,
  }));
  document.getElementById("ask-choice-label").textContent = options.choiceLabel ?? "负责人 Assign to";
  userLabel.hidden = choices.length === 0;
  select.required = choices.length > 0;
  select.replaceChildren(...choices.map((c) => {
    const option = document.createElement("option");
    option.value = c.value;
    option.textContent = c.label;
    option.selected = Boolean(c.selected);
    return option;
  }));
  onSubmit(dialog, document.getElementById("ask-error"),
    () => submit({ text: text.value.trim(), username: select.value }));
  dialog.showModal();
  (choices.length ? select : text).focus();
}

// A dialog's form sends with ``send``; an error it throws is shown in ``error`` and the
// dialog stays open so that nothing typed is lost; then the page is redrawn.
function onSubmit(dialog, error, send) {
  dialog.onsubmit = async (event) => {
    event.preventDefault();
    try {
      await send();
      dialog.close();
    } catch (failure) {
      if (failure instanceof SignedOut) { dialog.close(); return showLogin(); }
      error.textContent = failure.message;
    }
    redraw();
  };
}

// After a change: the lists, and the meter or connection page if one is open.
function redraw() {
  refresh();
  if (meterId) drawMeter().catch(() => {});
  if (connectionId) drawConnection().catch(() => {});
}

// -- overview ---------------------------------------------------------------------------

const SEVERITY = { critical: "严重 critical", warning: "警告 warning", info: "提示 info" };

function setText(id, value) {
  document.getElementById(id).textContent = value;
}

function drawOverview(o) {
  setText("t-meters", o.meters);
  setText("t-online", o.online);
  setText("t-offline", o.offline);
  setText("t-never", o.never_seen);
  setText("t-closed", o.valves_closed);
  setText("t-critical", o.alarms_by_severity.critical);
  setText("t-warning", o.alarms_by_severity.warning);
  setText("t-info", o.alarms_by_severity.info);
  setText("t-alarms", o.alarms_active);
  setText("t-dead", o.dead_letters);
  const ingest = o.ingest;
  const stale = ingest.workers.filter((w) => w.stale).length;
  setText("t-ingest", ingest.workers.length === 0 ? "无 none" : ingest.ok ? "正常 OK" : "异常 check");
  const faults = ingest.workers.filter((w) => w.fault).map((w) => `${w.worker}: ${w.fault}`);
  const warnings = ingest.workers.filter((w) => w.warning).map((w) => w.warning);
  const reporting = `${ingest.workers.length - stale}/${ingest.workers.length} 进程在报 workers reporting`;
  setText("t-ingest-detail", faults.length
    ? `严重故障 critical fault — ${faults.join("; ")}`
    : warnings.length ? `${reporting}; 注意 note — ${[...new Set(warnings)].join("; ")}` : reporting);
  document.getElementById("t-ingest-tile").className = "tile " + (ingest.ok ? "ok" : "critical");
  setText("t-rate", Math.round(ingest.messages_per_s));
  setText("t-spool", ingest.spool_records);
  const banner = document.getElementById("calendar-banner");
  const missing = o.calendar_missing_years;
  banner.hidden = missing.length === 0;
  banner.textContent = missing.length === 0 ? "" :
    `缺少 ${missing.join("、")} 年节假日安排：工作日期限无法计算 — no holiday schedule for ` +
    `${missing.join(", ")}: working-day deadlines are not computed. 请加载 Load it: GASGUARD_HOLIDAY_FILE ` +
    "(gasguard calendar check)";
  rows("alarm-rules", o.alarms_by_rule, (row, c) => {
    row.className = "severity-" + c.severity;
    cell(row, c.rule); cell(row, SEVERITY[c.severity]); cell(row, c.open); cell(row, c.active);
  });
}

// -- alarms -----------------------------------------------------------------------------

function lastNote(note) {
  const lines = (note || "").split("\n");
  return lines[lines.length - 1].replace(/^\d+ /, "");
}

function button(td, label, action, onClick) {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = label;
  b.dataset.action = action;
  b.addEventListener("click", onClick);
  td.appendChild(b);
}

function alarmButtons(td, alarm) {
  button(td, "通知 Notified", "notices", () => showNotices(alarm));
  if (!may("operator")) return;
  if (alarm.state === "active") button(td, "确认 Ack", "ack", () => acknowledge(alarm.id));
  button(td, "指派 Assign", "assign", () => askAssign(alarm));
  button(td, "备注 Comment", "comment", () => askComment(alarm));
  button(td, "解除 Clear", "clear", () => askClear(alarm));
}

function drawAlarms(alarms) {
  rows("alarms", alarms, (row, a) => {
    row.className = `${a.action} severity-${a.severity}`;
    row.dataset.meter = a.meter_id;
    row.dataset.alarm = a.id;
    row.tabIndex = 0;
    cell(row, a.id);
    cell(row, a.meter_id);
    cell(row, a.rule);
    cell(row, SEVERITY[a.severity] + (a.action === "shutoff" ? " · 关阀 shutoff" : ""));
    cell(row, whenOpened(a));
    cell(row, a.repeat_count);
    cell(row, a.state === "active" ? "未确认 active" : "已确认 acknowledged · " + (a.acknowledged_by ?? ""));
    cell(row, a.assigned_to ?? "–", "assigned");
    cell(row, lastNote(a.note), "note");
    alarmButtons(cell(row, "", "actions"), a);
    row.addEventListener("keydown", (event) => alarmKey(event, a));
  });
  document.getElementById("alarms-empty").hidden = alarms.length > 0;
}

function alarmKey(event, alarm) {
  if (event.target !== event.currentTarget || !may("operator")) return;
  const act = { a: () => alarm.state === "active" && acknowledge(alarm.id), s: () => askAssign(alarm),
    m: () => askComment(alarm), c: () => askClear(alarm), Enter: () => openMeter(alarm.meter_id) }[event.key];
  if (act) { event.preventDefault(); act(); }
}

// Each message of the alarm (gasguard notify): the channel, where it stands, the channel's
// answer, attempts.
const NOTICE_STATE = { queued: "排队 queued", sent: "已送达 sent", failed: "失败 failed" };
async function showNotices(alarm) {
  let notices;
  try {
    notices = await api(`/alarms/${alarm.id}/notifications`);
  } catch (error) {
    if (error instanceof SignedOut) return showLogin();
    return alert(error.message);
  }
  setText("notices-title", `通知 Notifications of ${alarmName(alarm)}`);
  rows("notices", notices, (row, n) => {
    row.className = `notice-${n.state}`;
    cell(row, n.channel); cell(row, NOTICE_STATE[n.state] ?? n.state, "state"); cell(row, n.attempts);
    cell(row, fmtTime(n.sent_ms ?? n.updated_ms)); cell(row, n.answer, "answer");
  });
  document.getElementById("notices-empty").hidden = notices.length > 0;
  document.getElementById("notices-dialog").showModal();
}

async function acknowledge(id) {
  try {
    await postJson(`/alarms/${id}/ack`, { note: "" });
  } catch (error) {
    if (error instanceof SignedOut) return showLogin();
    alert(error.message);
  }
  refresh();
}

function alarmName(alarm) {
  return `#${alarm.id} ${alarm.meter_id} ${alarm.rule}`;
}

function askClear(alarm) {
  ask({ title: `解除报警 Clear alarm ${alarmName(alarm)}`, label: "原因（必填）Reason (required)",
    okLabel: "解除 Clear", required: true },
  ({ text }) => postJson(`/alarms/${alarm.id}/clear`, { reason: text }));
}

function askComment(alarm) {
  ask({ title: `备注 Comment on ${alarmName(alarm)}`, label: "备注 Comment", okLabel: "添加 Add",
    required: true, minLength: 1 },
  ({ text }) => postJson(`/alarms/${alarm.id}/comments`, { text }));
}

async function askAssign(alarm) {
  let users;
  try { users = await api("/users"); } catch (error) { return alert(error.message); }
  ask({ title: `指派 Assign ${alarmName(alarm)}`, label: "说明（可选）Note (optional)",
    okLabel: "指派 Assign", users },
  ({ text, username }) => postJson(`/alarms/${alarm.id}/assign`, { username, note: text }));
}

// -- meters -----------------------------------------------------------------------------

function drawMeters(meters) {  // closed valves first, across every page (order=valve)
  rows("meters", meters, (row, m) => {
    row.dataset.meter = m.id;
    cell(row, m.id);
    cell(row, m.model);
    cell(row, m.category);
    cell(row, m.valve ?? "–", "valve-" + (m.valve ?? "unknown"));
    cell(row, m.status ?? "–");
    cell(row, fmtTime(m.last_reading_ms));
    openable(row, () => openMeter(m.id));
  });
}

function openable(row, open) {
  row.tabIndex = 0;
  row.addEventListener("click", open);
  row.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === row) open();
  });
}

let meterId = null;

async function drawMeter() {
  if (!meterId) return;
  const hours = Number(document.getElementById("meter-range").value);
  const end = Date.now(), start = end - hours * 3600 * 1000;
  const id = encodeURIComponent(meterId);
  const [meter, page, commands, alarms, connections, days] = await Promise.all([
    api(`/meters/${id}`),
    api(`/meters/${id}/readings?start=${start}&end=${end}`),
    api(`/commands?meter_id=${id}&limit=20`),
    api(`/alarms?meter_id=${id}&limit=20`),
    api(`/connections?meter_id=${id}`),
    api(`/meters/${id}/consumption?by=${consumptionBy()}`),
  ]);
  lifecycleNow = meter.lifecycle;  // the steps that can follow (askLifecycle)
  drawConsumption(days);
  drawThresholds(await api(`/meters/${id}/thresholds`));
  drawHistory(await api(`/meters/${id}/history?limit=50`));
  document.getElementById("consumption-csv").href = `${API}/meters/${id}/consumption?by=${consumptionBy()}&format=csv`;
  setText("consumption-span", consumptionBy() === "month" ? "(近一年 last year, m³)" : "(近 31 天 last 31 days, m³)");
  setText("meter-id", meter.id);
  setText("meter-facts",
    `${meter.model} · ${meter.category} · 协议 profile ${meter.device_profile} · 阀门 valve ${meter.valve ?? "–"} · ${meter.status ?? "–"} · ` +
    `最新读数 last reading ${fmtTime(meter.last_reading_ms)} · 安装 installed ${fmtTime(meter.installed_ms)} · ` +
    lifeText(meter));
  const link = connections[0];
  setText("meter-connection", link
    ? `报装 connection ${link.number} · 客户 customer ${link.applicant} · ${link.phone} · ${link.address} · ${TIME_STATE[link.time.state] ?? link.time.state}`
    : "无关联报装 no linked connection record");
  const readings = page.readings;
  const xs = readings.map((r) => r.ts);
  const marks = [
    ...alarms.map((a) => ({ ts: a.opened_ts_ms, kind: "alarm" })),
    ...commands.filter((c) => c.sent_ms).map((c) => ({ ts: c.sent_ms, kind: "command" })),
  ];
  timeChart("chart-flow", xs, [
    { label: "流量 flow m³/h", scale: "m³/h", values: readings.map((r) => r.flow_m3h) },
    { label: "压力 pressure kPa", scale: "kPa", values: readings.map((r) => r.pressure_kpa) },
  ], marks);
  timeChart("chart-volume", xs, [{ label: "累计 volume m³", scale: "m³", values: readings.map((r) => r.volume_m3) }], marks);
  rows("meter-commands", commands, (row, c) => {
    row.dataset.command = c.id;
    cell(row, c.action); cell(row, commandState(c), "state"); cell(row, c.requested_by); cell(row, c.reason);
    cell(row, fmtTime(c.created_ms));
  });
  rows("meter-alarms", alarms, (row, a) => {
    row.className = "severity-" + a.severity;
    cell(row, a.id); cell(row, a.rule); cell(row, SEVERITY[a.severity]); cell(row, a.state);
    cell(row, whenOpened(a));
  });
  showByRole(document.getElementById("meter"));  // its actions, the thresholds' send
}

// The firmware thresholds (parameter download, docs/meters.md): configured for the meter
// (its profile's, then its own) against those the meter confirmed it holds.
const THRESHOLD_NAMES = {
  micro_flow_m3h: "微小流量 micro-flow m³/h", micro_flow_min: "微小流量时长 micro-flow min",
  prolonged_use_min: "超时用气 prolonged use min", over_flow_m3h: "过流 over-flow m³/h",
  pressure_low_kpa: "欠压 pressure low kPa", pressure_high_kpa: "超压 pressure high kPa",
};
function drawThresholds(status) {
  const names = Object.keys(THRESHOLD_NAMES).filter((n) => n in status.configured || (status.held && n in status.held));
  rows("meter-thresholds", names, (row, name) => {
    const wanted = status.configured[name], held = status.held ? status.held[name] : undefined;
    const differs = status.differs.includes(name);
    row.className = differs ? "differs" : "";
    cell(row, THRESHOLD_NAMES[name]);
    cell(row, wanted ?? "–");
    cell(row, held ?? "–");
    cell(row, wanted === undefined ? "" : differs ? "✗ 不一致 differs" : "✓ 一致 matches", "match");
  });
  let summary = !names.length ? "未配置 none configured"
    : status.differs.length ? `${status.differs.length} 项不一致 differ` : "全部一致 all match";
  if (status.confirmed_ms) summary += ` · 表计确认 confirmed ${fmtTime(status.confirmed_ms)}`;
  const d = status.download;
  if (d && !["succeeded"].includes(d.state)) summary += ` · 下发 download ${commandState(d)}`;
  setText("thresholds-summary", summary);
  document.getElementById("send-thresholds").disabled = !names.length;
}

// The meter's life as the audit log has it, and the steps an operator records
// (meters/lifecycle.py: which step follows which; remove and replace are a supervisor's).
const STEP_TEXT = {
  "meter.import": "入库 imported", "meter.install": "安装 installed", "meter.commission": "调试 commissioned",
  "meter.activate": "启用 activated", "meter.suspend": "停用 suspended", "meter.resume": "恢复 resumed",
  "meter.remove": "拆除 removed", "meter.replace": "更换 replaced", "meter.thresholds": "阈值 thresholds",
  "meter.key_export": "密钥导出 key export",
};
const STEPS = {  // step: [label, from which states, role]
  install: ["安装 Install", ["in_stock"], "operator"],
  commission: ["调试 Commission", ["installed"], "operator"],
  activate: ["启用 Activate", ["commissioned"], "operator"],
  suspend: ["停用 Suspend", ["active"], "operator"],
  resume: ["恢复 Resume", ["suspended"], "operator"],
  remove: ["拆除 Remove", ["installed", "commissioned", "active", "suspended"], "supervisor"],
  replace: ["更换 Replace", ["commissioned", "active", "suspended"], "supervisor"],
};
let lifecycleNow = null;

function drawHistory(entries) {
  rows("meter-history", entries, (row, e) => {
    cell(row, fmtTime(e.at_ms)); cell(row, STEP_TEXT[e.action] ?? e.action, "step");
    cell(row, e.actor); cell(row, e.reason);
    const d = e.detail || {};
    const facts = [];
    if (d.to) facts.push(`→ ${LIFE[d.to] ?? d.to}`);
    if (d.installer) facts.push(`安装 ${d.installer}`);
    if (d.register_m3 !== undefined && d.register_m3 !== null) facts.push(`读数 register ${d.register_m3} m³`);
    if (d.new_meter) facts.push(`新表 new ${d.new_meter} (${d.new_register_m3} m³)`);
    if (d.replaces) facts.push(`替换 replaces ${d.replaces}`);
    cell(row, facts.join(" · "));
  });
}

function askLifecycle() {
  const dialog = document.getElementById("life-dialog");
  const form = document.getElementById("life-form");
  const select = document.getElementById("life-step");
  const possible = Object.entries(STEPS).filter(([, [, from, role]]) => from.includes(lifecycleNow) && may(role));
  select.replaceChildren(...possible.map(([step, [label]]) => {
    const option = document.createElement("option");
    option.value = step; option.textContent = label;
    return option;
  }));
  form.reset();
  select.value = possible.length ? possible[0][0] : "";
  const fit = () => form.querySelectorAll("label[data-for]").forEach((l) => {
    l.hidden = !l.dataset.for.split(" ").includes(select.value);
  });
  select.onchange = fit;
  fit();
  document.getElementById("life-error").textContent = possible.length ? "" : "无可记录的步骤 no step can follow";
  onSubmit(dialog, document.getElementById("life-error"), () => {
    const data = new FormData(form);
    const body = { step: select.value, reason: String(data.get("reason") || "").trim() };
    for (const name of ["installer", "location", "new_meter_id"]) {
      const value = String(data.get(name) || "").trim();
      if (value && !form.querySelector(`[name=${name}]`).closest("label").hidden) body[name] = value;
    }
    for (const name of ["register_m3", "new_register_m3"]) {
      const value = String(data.get(name) || "");
      if (value && !form.querySelector(`[name=${name}]`).closest("label").hidden) body[name] = Number(value);
    }
    return postJson(`/meters/${encodeURIComponent(meterId)}/lifecycle`, body);
  });
  dialog.showModal();
  select.focus();
}

function askThresholds() {
  ask({ title: `下发阈值 Send the configured thresholds to ${meterId}?`,
    warning: "表计按这些阈值自行关阀 The meter closes its valve by itself at these limits.",
    label: "原因（必填）Reason (required)", okLabel: "确认下发 Confirm and send", required: true },
  ({ text }) => postJson(`/meters/${encodeURIComponent(meterId)}/thresholds/send`, { reason: text }));
}

// When the condition happened (the meter's event time) and, for data that came late (a
// meter that reports once a day), when gasguard learned of it.
const LATE_MS = 10 * 60_000;
function whenOpened(a) {
  const late = a.created_ms - a.opened_ts_ms;
  if (late < LATE_MS) return fmtTime(a.opened_ts_ms);
  const hours = Math.floor(late / 3_600_000), minutes = Math.floor((late % 3_600_000) / 60_000);
  const by = hours ? `${hours} h ${minutes} min` : `${minutes} min`;
  return `${fmtTime(a.opened_ts_ms)} · 获知 learned ${fmtTime(a.created_ms)} (晚到 late ${by})`;
}

// Where the meter is in its life (docs/meters.md), and a replacement's other meter.
const LIFE = {
  in_stock: "库存 in stock", installed: "已安装 installed", commissioned: "已调试 commissioned",
  active: "在用 active", suspended: "停用 suspended", removed: "已拆除 removed", replaced: "已更换 replaced",
};
function lifeText(meter) {
  let text = `状态 life ${LIFE[meter.lifecycle] ?? meter.lifecycle}`;
  if (meter.lifecycle_ms) text += ` (${fmtTime(meter.lifecycle_ms)})`;
  if (meter.replaced_by) text += ` → ${meter.replaced_by}`;
  if (meter.replaces) text += ` ← 替换 replaces ${meter.replaces}`;
  if (meter.imei) text += ` · IMEI ${meter.imei}`;
  return text;
}

function consumptionBy() {
  return document.getElementById("consumption-by").value;
}

// One bar a day (or a month), its height the gas used; a period with steps left out (a
// reset, a spike) is marked, so nobody bills it unchecked.
function drawConsumption(days) {
  const box = document.getElementById("consumption-bars");
  box.replaceChildren();
  if (!days.length) { box.textContent = "无数据 no data"; return; }
  const top = Math.max(...days.map((d) => d.volume_m3), 0.001);
  for (const d of days) {
    const bar = document.createElement("span");
    bar.className = d.left_out ? "bar left-out" : "bar";
    bar.style.height = `${Math.max(2, (d.volume_m3 / top) * 100)}%`;
    bar.title = `${d.period}: ${d.volume_m3.toFixed(3)} m³` + (d.left_out ? ` (${d.left_out} 步未计 steps left out)` : "");
    bar.dataset.period = d.period;
    box.append(bar);
  }
}

// A command for a meter that sleeps waits for it: say so, and when it is expected to wake.
function commandState(c) {
  if (c.wake_expected_ms === null || c.wake_expected_ms === undefined) return c.state;
  return `${c.state} · 等待表具唤醒 waiting for the meter (预计 expected ${fmtTime(c.wake_expected_ms)})`;
}

// The city by area (districts or pressure zones): a tile each, coloured by its worst open
// alarm (no map tiles: the control room may be offline); one chosen lists its meters.
const AREA_NONE = "未定位 not placed";
let areaChosen = null;
function drawAreas(areas) {
  const box = document.getElementById("areas");
  box.replaceChildren(...areas.map((a) => {
    const tile = document.createElement("button");
    tile.type = "button";
    tile.className = `area worst-${a.worst}`;
    tile.setAttribute("role", "listitem");
    tile.dataset.area = a.area ?? "";
    const name = document.createElement("strong");
    name.textContent = a.area ?? AREA_NONE;
    const facts = document.createElement("span");
    facts.textContent = `${a.meters} 表 meters · 严重 ${a.critical} · 警告 ${a.warning} · 关阀 closed ${a.valves_closed}`;
    tile.append(name, facts);
    tile.addEventListener("click", () => showArea(a.area));
    return tile;
  }));
  if (!areas.length) box.textContent = "无表计 no meters";
}

async function showArea(area) {
  areaChosen = area;
  const by = document.getElementById("areas-by").value;
  const filter = area === null ? "" : `&${by}=${encodeURIComponent(area)}`;
  const meters = await api(`/meters?limit=500${filter}`);
  const shown = area === null ? meters.filter((m) => m[by] === null) : meters;
  setText("area-name", area ?? AREA_NONE);
  document.getElementById("area-meters-h").hidden = false;
  document.getElementById("area-meters").hidden = false;
  rows("area-meters", shown, (row, m) => {
    row.dataset.meter = m.id;
    cell(row, m.id); cell(row, m.model); cell(row, m.valve ?? "–", "valve-" + (m.valve ?? "unknown"));
    cell(row, m.status ?? "–"); cell(row, m.street ?? "–"); cell(row, m.building ?? "–");
    openable(row, () => openMeter(m.id));
  });
}

function showPage(id) {
  for (const page of ["main", "meter", "connection"]) document.getElementById(page).hidden = page !== id;
}

async function openMeter(id) {
  meterId = id;
  connectionId = null;
  showPage("meter");
  try { await drawMeter(); } catch (error) { if (error instanceof SignedOut) showLogin(); }
  document.querySelector("#meter .back").focus();
}

function back() {
  meterId = null;
  connectionId = null;
  showPage("main");
}

const COMMAND_TEXT = {
  close: ["关阀 Close the valve of", "用户将停气 The customer will have no gas until the valve is reopened at the meter."],
  arm: ["允许用户开阀 Arm", "用户可在表上按键开阀 The customer may then open the valve at the meter."],
  open: ["远程开阀 Open the valve of", "仅在确认无泄漏后 Only when the site is known safe; refused after a safety shut-off."],
};

function askCommand(action) {
  const [title, warning] = COMMAND_TEXT[action];
  ask({ title: `${title} ${meterId}?`, warning, label: "原因（必填）Reason (required)",
    okLabel: "确认发送 Confirm and send", required: true },
  ({ text }) => postJson(`/meters/${encodeURIComponent(meterId)}/commands`, { action, reason: text }));
}

// -- connection records -------------------------------------------------------------------

const TIME_STATE = {
  on_time: "正常 on time", warning: "预警 warning", overdue: "超时 overdue",
  done_in_time: "按时完成 done", done_late: "超时完成 done late",
  calendar_missing: "缺节假日安排 calendar missing",
};

// connections/pauses.py: the reasons a pause may give (tests/api/test_dashboard.py keeps
// the two lists the same)
const PAUSE_REASONS = {
  design: "设计 design", drawings_review: "图纸审查 drawings review", construction: "外线施工 construction",
  administrative_approval: "行政审批 administrative approval",
  waiting_for_customer: "等待用户 waiting for the customer", missing_documents: "容缺材料补交 documents due",
};

// A deadline as the law states it: "2026-03-05 24:00" (the API's ISO 8601 at +08:00).
function deadlineOf(time) {
  return time.deadline ? time.deadline.slice(0, 16).replace("T", " ") : "–";
}

function days(value, time) {
  return value === null ? "–" : `${value} ${unitOf(time)}`;
}

function unitOf(time) {
  return time.unit === "working" ? "工作日 wd" : "天 d";
}

// where the application is, in its city's own names for the two stages
function stageOf(a) {
  const [one, two] = a.stage_names;
  return a.gas_on_ms ? "通气 gas on" : a.surveyed_ms ? `${two} stage two` : `${one} stage one`;
}

function drawConnections(applications) {
  rows("connections", applications, (row, a) => {
    row.dataset.number = a.number;
    row.className = "time-" + a.time.state;
    cell(row, a.number);
    cell(row, a.policy);
    cell(row, a.category);
    cell(row, stageOf(a));
    cell(row, `${a.time.used_days ?? "–"} / ${a.time.budget_days} ${unitOf(a.time)}`);
    cell(row, days(a.time.left_days, a.time));
    cell(row, deadlineOf(a.time));
    cell(row, TIME_STATE[a.time.state] ?? a.time.state);
    openable(row, () => openConnection(a.id));
  });
  document.getElementById("connections-empty").hidden = applications.length > 0;
}

let connectionId = null;

async function drawConnection() {
  if (!connectionId) return;
  const a = await api(`/connections/${connectionId}`);
  setText("connection-number", a.number);
  setText("connection-facts", `${a.applicant} · ${a.phone} · ${a.address} · ${a.district} · ` +
    `${a.policy} · ${a.category} · ${a.channel} · 表号 meter ${a.meter_id ?? "–"} · ` +
    `费用 fees ${a.fee_application} / ${a.fee_gas_on}` +
    a.fees.map((f) => ` + ${f.item} ${f.amount}`).join("") + " · " +
    `外线 external pipe ${a.pipe_length_m ?? "–"} m${a.affects_others ? " · 影响其他用户 affects others" : ""}`);
  const time = document.getElementById("connection-time");
  time.textContent = `${TIME_STATE[a.time.state] ?? a.time.state} · 期限 deadline ${deadlineOf(a.time)} · ` +
    `已用 used ${a.time.used_days ?? "–"} / ${a.time.budget_days} ${unitOf(a.time)} · ` +
    `剩余 left ${days(a.time.left_days, a.time)}` +
    (a.time.missing_year ? ` · 缺 ${a.time.missing_year} 年节假日安排 no holiday schedule for ${a.time.missing_year}` : "") +
    (a.time.pauses_over_limit.length ? " · 暂停超过上限 a pause is past its maximum: the clock runs again" : "") +
    a.stage_times.map((s) => ` · ${s.name} ${TIME_STATE[s.time.state] ?? s.time.state}, 期限 ${deadlineOf(s.time)}`).join("");
  time.className = "time-" + a.time.state;
  const documents = document.getElementById("connection-documents");
  documents.hidden = a.documents === "complete";
  documents.textContent = a.documents === "complete" ? "" :
    `容缺受理 材料待补 documents ${a.documents === "overdue" ? "逾期 overdue" : "due"} ` +
    `${fmtTime(a.documents_due_ms)}: ${a.missing_documents.join("、")}`;
  documents.className = a.documents === "overdue" ? "time-overdue" : "time-warning";
  const [one, two] = a.stage_names;
  const stages = [
    [`受理 Application received (${one} starts)`, a.submitted_ms],
    [`勘查完成 Surveyed (${one} done, ${two} starts)`, a.surveyed_ms],
    ["装表 Meter commissioned", a.commissioned_ms],
    [`${two} Gas-on recorded by the utility`, a.gas_on_recorded_ms],
    ["表计首次用气 Meter's first flow (confirms gas-on)", a.first_flow_ms],
    ["通气完成 Gas on (done)", a.gas_on_ms],
  ];
  if (a.flow_before_commission_ms) {
    stages.push(["⚠ 装表前已有用气 Flow before commissioning", a.flow_before_commission_ms]);
  }
  rows("connection-stages", stages, (row, [name, ms]) => {
    row.className = ms ? "done" : "pending";
    cell(row, name); cell(row, ms ? fmtTime(ms) : "未到 not yet");
  });
  rows("connection-pauses", a.pauses, (row, p) => {
    cell(row, fmtTime(p.start_ms)); cell(row, p.end_ms ? fmtTime(p.end_ms) : "暂停中 paused now");
    cell(row, PAUSE_REASONS[p.reason] ?? p.reason); cell(row, p.evidence || "–");
    if (a.time.pauses_over_limit.includes(p.reason)) row.className = "time-overdue";
  });
  document.getElementById("connection-no-pauses").hidden = a.pauses.length > 0;
  const actions = document.getElementById("connection-actions");
  showByRole(actions);
  const paused = a.pauses.some((p) => !p.end_ms);
  const open = !a.gas_on_ms;
  const hide = { pause: paused || !open, resume: !paused, surveyed: Boolean(a.surveyed_ms) || !open,
    commission: Boolean(a.meter_id) || !open, "gas-on": !a.meter_id || Boolean(a.gas_on_recorded_ms) || !open,
    documents: a.documents === "complete" };
  missingDocuments = a.missing_documents;
  connectionPolicy = a.policy;
  actions.querySelectorAll("button[data-step]").forEach((b) => { b.hidden ||= hide[b.dataset.step]; });
}

async function openConnection(id) {
  if (id !== connectionId) document.getElementById("connection-code").hidden = true;
  connectionId = id;
  meterId = null;
  showPage("connection");
  try { await drawConnection(); } catch (error) { if (error instanceof SignedOut) showLogin(); }
  document.querySelector("#connection .back").focus();
}

let missingDocuments = [];
let connectionPolicy = null;

// A fee charged: an item of the city's published list (its price shown), or one off the
// list, which the API records and raises an alarm for at once (清单之外无收费).
async function askFee(path) {
  const dialog = document.getElementById("fee-dialog");
  const item = document.getElementById("fee-item");
  const other = document.getElementById("fee-other");
  const guide = await api(`/public/guide?policy=${encodeURIComponent(connectionPolicy)}`);
  const choices = [
    ...Object.entries(guide.fees).map(([name, price]) => [name, `${name} · 标价 ${price} 元`]),
    ["application", "application · 报装（免费 free）"],
    ["gas_on", "gas_on · 通气（免费 free）"],
    ["", "其他：清单外 Other: off the list"],
  ];
  item.replaceChildren(...choices.map(([value, label]) => {
    const option = document.createElement("option");
    option.value = value;
    option.textContent = label;
    return option;
  }));
  const showOther = () => {
    document.getElementById("fee-other-label").hidden = item.value !== "";
    other.required = item.value === "";
  };
  item.onchange = showOther;
  showOther();
  other.value = "";
  document.getElementById("fee-amount").value = "";
  document.getElementById("fee-note").value = "";
  document.getElementById("fee-error").textContent = "";
  onSubmit(dialog, document.getElementById("fee-error"), () => postJson(path, {
    item: item.value || other.value.trim(),
    amount: Number(document.getElementById("fee-amount").value),
    note: document.getElementById("fee-note").value.trim(),
  }));
  dialog.showModal();
  item.focus();
}

async function connectionStep(step) {
  const path = `/connections/${connectionId}/${step}`;
  if (step === "documents") {
    const choices = missingDocuments.map((name) => ({ value: name, label: name }));
    return ask({ title: "补交材料 Documents received (容缺受理)", choices, choiceLabel: "材料 Document",
      label: "备注 Note", okLabel: "已收到 Received" },
    ({ username }) => postJson(path, { received: [username] }));
  }
  if (step === "fees") return askFee(path);
  if (step === "pause") {
    const choices = Object.entries(PAUSE_REASONS).map(([value, label]) => ({ value, label }));
    return ask({ title: "暂停计时 Pause the clock (time the utility does not control)",
      choices, choiceLabel: "原因 Reason", label: "依据（必填：说明或文件编号）Evidence (a note or document number)",
      okLabel: "暂停 Pause", required: true },
    ({ text, username }) => postJson(path, { reason: username, evidence: text }));
  }
  if (step === "query-code") {
    return ask({ title: "新查询码 New query code for the applicant's receipt",
      warning: "旧查询码将失效 The old code stops working", label: "原因（必填）Reason (required)",
      okLabel: "生成 Issue", required: true }, async ({ text }) => {
      const issued = await postJson(path, { reason: text });
      const shown = document.getElementById("connection-code");
      shown.textContent = `查询码 Query code ${issued.query_code} · ` +
        "打印在回执上，仅显示一次 print it on the receipt: it is shown once";
      shown.hidden = false;
    });
  }
  if (step === "commission") {
    return ask({ title: "装表 Commission a meter", label: "表号 Meter id", okLabel: "装表 Commission",
      required: true, minLength: 1 }, ({ text }) => postJson(path, { meter_id: text }));
  }
  try { await postJson(path); } catch (error) { alert(error.message); }
  redraw();
}

// -- the indicator report -----------------------------------------------------------------

const UTC8_MS = 8 * 3600 * 1000;

// 00:00 of a day in UTC+8 (the CLI's report counts its days the same way)
function dayMs(value) {
  const [y, m, d] = value.split("-").map(Number);
  return Date.UTC(y, m - 1, d) - UTC8_MS;
}

// a date whose UTC fields are a UTC+8 calendar day, as "2026-03-01"
function isoDay(date) {
  return `${date.getUTCFullYear()}-${String(date.getUTCMonth() + 1).padStart(2, "0")}-${String(date.getUTCDate()).padStart(2, "0")}`;
}

function fmtStats(median, mean, max) {
  return [median, mean, max].map((v) => (v === null ? "–" : v)).join(" / ");
}

async function drawReport(event) {
  if (event) event.preventDefault();
  const form = document.getElementById("report-form");
  const query = `start=${dayMs(form.elements.from.value)}&end=${dayMs(form.elements.to.value)}` +
    `&by=${form.elements.by.value}`;
  document.getElementById("report-csv").href = `${API}/connections/report?${query}&format=csv`;
  try {
    const table = await api(`/connections/report?${query}`);
    setText("report-error", "");
    rows("report", table, (row, r) => {
      cell(row, r.policy); cell(row, r.group); cell(row, r.stages); cell(row, r.completed);
      cell(row, r.within_limit);
      cell(row, r.share_within_limit === null ? "–" : `${(100 * r.share_within_limit).toFixed(1)} %`);
      cell(row, fmtStats(r.natural_days_median, r.natural_days_mean, r.natural_days_max));
      cell(row, fmtStats(r.working_days_median, r.working_days_mean, r.working_days_max));
      cell(row, fmtStats(r.stage_one_days_median, r.stage_one_days_mean, r.stage_one_days_max));
      cell(row, fmtStats(r.stage_two_days_median, r.stage_two_days_mean, r.stage_two_days_max));
      cell(row, `${r.approval_days_median ?? "–"}, ${r.approval_days_max ?? "–"} / ` +
        `${r.construction_days_median ?? "–"}, ${r.construction_days_max ?? "–"}` +
        (r.pauses_over_limit ? ` · 超限 ${r.pauses_over_limit}` : ""));
      cell(row, `${r.target_stages ?? "–"} / ${r.target_days ?? "–"}`);
      cell(row, `${r.frontier_stages ?? "–"} / ${r.frontier_days ?? "–"}`);
      cell(row, r.fees_charged.length ? r.fees_charged.join(", ") : "无 none");
    });
  } catch (error) {
    if (error instanceof SignedOut) return showLogin();
    setText("report-error", error.message);
  }
}

// -- paging, refresh, the live feed ---------------------------------------------------------

// Each list asks for one row more than it shows, to know whether there is a next page.
function paged(list, path) {
  const size = PAGE_SIZE[list];
  const joiner = path.includes("?") ? "&" : "?";
  return api(`${path}${joiner}offset=${pages[list] * size}&limit=${size + 1}`).then((items) => {
    drawPager(list, items.length > size);
    return items.slice(0, size);
  });
}

function drawPager(list, more) {
  const pager = document.querySelector(`.pager[data-list=${list}]`);
  const page = pages[list];
  pager.replaceChildren();
  if (page === 0 && !more) return;
  const step = (delta) => () => { pages[list] = Math.max(0, page + delta); refresh(); };
  button(pager, "‹ 上一页 Prev", "prev", step(-1));
  pager.lastChild.disabled = page === 0;
  const label = document.createElement("span");
  label.textContent = ` 第 ${page + 1} 页 page ${page + 1} `;
  pager.appendChild(label);
  button(pager, "下一页 Next ›", "next", step(1));
  pager.lastChild.disabled = !more;
}

async function refresh() {
  const pill = document.getElementById("health");
  try {
    const [overview, alarms, meters, connections] = await Promise.all([
      api("/overview"),
      paged("alarms", "/alarms?state=open&order=critical"),
      paged("meters", "/meters?order=valve"),
      paged("connections", "/connections?state=open"),
    ]);
    drawOverview(overview);
    drawAlarms(alarms);
    drawMeters(meters);
    drawConnections(connections);
    drawAreas(await api(`/areas?by=${document.getElementById("areas-by").value}`));
    pill.textContent = "在线 live · " + new Date().toLocaleTimeString("zh-CN", ZONE);
    pill.className = "pill ok";
  } catch (error) {
    if (error instanceof SignedOut) return showLogin();
    pill.textContent = "连接失败 API unreachable";
    pill.className = "pill bad";
  }
}

function listen() {
  if (feed) feed.close();
  feed = new EventSource(API + "/feed");
  feed.addEventListener("alarm", refresh);
  feed.addEventListener("command", refresh);
  feed.addEventListener("command", () => drawMeter().catch(() => {}));
  feed.addEventListener("signed_out", () => { feed.close(); showLogin(); });
}

// -- keyboard -----------------------------------------------------------------------------

const VIEWS = ["overview", "alarms-section", "connections-section", "report-section", "meters-section", "areas-section"];

function showView(id) {
  back();
  const section = document.getElementById(id);
  section.scrollIntoView({ block: "start" });
  const first = section.querySelector("tbody tr[tabindex]");
  (first ?? section).focus();
}

function moveRow(event) {
  const row = event.target.closest("tbody tr[tabindex]");
  if (!row) return false;
  const next = event.key === "ArrowDown" ? row.nextElementSibling : row.previousElementSibling;
  if (next) next.focus();
  return true;
}

function onKey(event) {
  if (!me || document.querySelector("dialog[open]")) return;
  if (event.target.matches("input, textarea, select") || event.ctrlKey || event.metaKey || event.altKey) return;
  if (event.key === "Escape" && (meterId || connectionId)) { event.preventDefault(); back(); return; }
  if (["ArrowDown", "ArrowUp"].includes(event.key) && moveRow(event)) { event.preventDefault(); return; }
  const view = VIEWS[Number(event.key) - 1];
  if (view) { event.preventDefault(); showView(view); }
}

// -- session ------------------------------------------------------------------------------

function showLogin() {
  clearInterval(timer);
  if (feed) feed.close();
  me = null;
  meterId = null;
  connectionId = null;
  for (const id of ["meter", "connection", "main", "nav", "keys", "sign-out"]) document.getElementById(id).hidden = true;
  setText("who", "");
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
  for (const id of ["nav", "keys", "sign-out"]) document.getElementById(id).hidden = false;
  showPage("main");
  setText("who", `${me.username} · ${me.role}`);
  // The live feed first: it starts from the moment it connects, so it must be open before
  // the lists are read, or a change between the two would be missed. A browser allows six
  // connections to a host: the slower figures (report, completeness) wait for the lists.
  listen();
  refresh().then(() => { drawReport(); drawCompleteness(); });
  clearInterval(timer);
  clearInterval(completenessTimer);
  timer = setInterval(refresh, REFRESH_MS);
  completenessTimer = setInterval(drawCompleteness, COMPLETENESS_MS);
}

// -- data completeness (抄表率): its own slower timer, it counts every meter's readings ---

const COMPLETENESS_MS = 60000;
let completenessTimer = null;

async function drawCompleteness() {
  try {
    const c = await api("/completeness?limit=1");
    setText("t-completeness", c.expected ? `${(c.share * 100).toFixed(1)} %` : "–");
    setText("t-completeness-detail",
      `${c.below_total} 表低于 meters below ${Math.round(c.min_share * 100)} % (24 h)`);
    document.getElementById("t-completeness-tile").className =
      "tile " + (c.below_total ? "warn" : "ok");
  } catch (error) {
    setText("t-completeness-detail", "不可用 unavailable");
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const response = await fetch(API + "/auth/token", {
    method: "POST",
    body: new URLSearchParams(form),
    credentials: "same-origin",
  });
  if (!response.ok) {
    setText("login-error", "用户名或密码错误 Wrong username or password");
    return;
  }
  setText("login-error", "");
  event.target.reset();
  start();
}

async function signOut() {
  await fetch(API + "/auth/logout", { method: "POST", credentials: "same-origin" });
  showLogin();
}

function reportDefaults() {
  const form = document.getElementById("report-form");
  const today = new Date(Date.now() + UTC8_MS);  // its UTC fields: today in UTC+8
  form.elements.from.value = isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), 1)));
  form.elements.to.value = isoDay(new Date(Date.UTC(today.getUTCFullYear(), today.getUTCMonth() + 1, 1)));
}

document.getElementById("login-form").addEventListener("submit", signIn);
document.getElementById("sign-out").addEventListener("click", signOut);
document.getElementById("ask-cancel").addEventListener("click", () => document.getElementById("ask-dialog").close());
document.getElementById("fee-cancel").addEventListener("click", () => document.getElementById("fee-dialog").close());
document.querySelectorAll(".back").forEach((b) => b.addEventListener("click", back));
document.getElementById("meter-range").addEventListener("change", () => drawMeter());
document.getElementById("consumption-by").addEventListener("change", () => drawMeter());
document.getElementById("areas-by").addEventListener("change", async () => {
  areaChosen = null;
  document.getElementById("area-meters").hidden = document.getElementById("area-meters-h").hidden = true;
  drawAreas(await api(`/areas?by=${document.getElementById("areas-by").value}`));
});
document.getElementById("send-thresholds").addEventListener("click", askThresholds);
document.getElementById("life-step-button").addEventListener("click", askLifecycle);
document.getElementById("notices-close").addEventListener("click", () => document.getElementById("notices-dialog").close());
document.getElementById("life-cancel").addEventListener("click", () => document.getElementById("life-dialog").close());
document.querySelectorAll("#meter-actions button[data-command]").forEach((b) =>
  b.addEventListener("click", () => askCommand(b.dataset.command)));
document.querySelectorAll("#connection-actions button[data-step]").forEach((b) =>
  b.addEventListener("click", () => connectionStep(b.dataset.step)));
document.querySelectorAll("#nav button[data-view]").forEach((b) =>
  b.addEventListener("click", () => showView(b.dataset.view)));
document.getElementById("report-form").addEventListener("submit", drawReport);
document.getElementById("report-print").addEventListener("click", () => {
  document.body.classList.add("printing-report");  // style.css: only the table is printed
  window.print();
  document.body.classList.remove("printing-report");
});
document.addEventListener("keydown", onKey);
reportDefaults();
start();
