"use strict";
// Polls the API every two seconds and redraws the overview, alarms and meters.
const API = "/api/v1";
const REFRESH_MS = 2000;

function fmtTime(ms) {
  if (ms === null || ms === undefined) return "–";
  return new Date(ms).toLocaleString("zh-CN", { hour12: false });
}

function cell(row, text, className) {
  const td = document.createElement("td");
  td.textContent = text;
  if (className) td.className = className;
  row.appendChild(td);
}

async function getJson(path) {
  const response = await fetch(API + path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(path + ": " + response.status);
  return response.json();
}

function drawOverview(o) {
  document.getElementById("t-meters").textContent = o.meters;
  document.getElementById("t-alarms").textContent = o.alarms_active;
  document.getElementById("t-closed").textContent = o.valves_closed;
  document.getElementById("t-readings").textContent = o.readings_stored;
  document.getElementById("t-dead").textContent = o.dead_letters;
}

function drawAlarms(alarms) {
  const body = document.querySelector("#alarms tbody");
  body.replaceChildren();
  for (const a of alarms) {
    const row = document.createElement("tr");
    row.className = a.action;
    row.dataset.meter = a.meter_id;
    cell(row, a.id);
    cell(row, a.meter_id);
    cell(row, a.rule);
    cell(row, a.action === "shutoff" ? "关阀 shutoff" : "报警 alarm");
    cell(row, fmtTime(a.opened_ts_ms));
    cell(row, a.repeat_count);
    cell(row, JSON.stringify(a.detail));
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

async function refresh() {
  const pill = document.getElementById("health");
  try {
    const [overview, alarms, meters] = await Promise.all([
      getJson("/overview"), getJson("/alarms?state=active&limit=200"), getJson("/meters?limit=1000"),
    ]);
    drawOverview(overview);
    drawAlarms(alarms);
    drawMeters(meters);
    pill.textContent = "在线 live · " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
    pill.className = "pill ok";
  } catch (error) {
    pill.textContent = "连接失败 API unreachable";
    pill.className = "pill bad";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
