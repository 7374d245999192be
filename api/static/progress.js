// The applicant's progress page: no sign-in; the application number and the receipt's
// query code open one record (GET /public/progress); the service guide comes from
// GET /public/guide. Times in China Standard Time, as the deadlines are.
"use strict";

const API = "/api/v1";
const ZONE = { timeZone: "Asia/Shanghai", hour12: false };
const STATE = {
  on_time: "办理中，按时 In progress, on time", warning: "办理中，临近期限 In progress, deadline near",
  overdue: "已超期 Past its deadline", done_in_time: "已通气，按时完成 Gas on, in time",
  done_late: "已通气，超期完成 Gas on, late", calendar_missing: "办理中 In progress",
};

function fmt(ms) {
  return ms === null || ms === undefined ? "未到 not yet" : new Date(ms).toLocaleString("zh-CN", ZONE);
}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

function list(id, items) {
  document.getElementById(id).replaceChildren(...items.map((item) => {
    const li = document.createElement("li");
    li.textContent = item;
    return li;
  }));
}

async function lookUp(event) {
  event.preventDefault();
  const form = event.target;
  const query = new URLSearchParams({ number: form.elements.number.value.trim(), code: form.elements.code.value });
  const answer = await fetch(`${API}/public/progress?${query}`);
  if (!answer.ok) {
    text("lookup-error", answer.status === 404 ? "编号或查询码不正确 Number or code not found"
      : answer.status === 429 ? "尝试过多，请稍后再试 Too many tries, please wait" : `错误 error ${answer.status}`);
    document.getElementById("progress").hidden = true;
    return;
  }
  text("lookup-error", "");
  const p = await answer.json();
  text("p-number", p.number);
  text("p-state", (STATE[p.state] ?? p.state) + (p.paused ? " · 暂停计时 clock paused" : ""));
  const unit = p.unit === "working" ? "个工作日 working days" : "天 days";
  text("p-deadline", p.deadline
    ? `办结期限 Deadline: ${p.deadline.slice(0, 16).replace("T", " ")} · 剩余 left ${p.left_days} ${unit}`
    : "期限待定 Deadline to follow");
  const documents = document.getElementById("p-documents");
  documents.hidden = p.missing_documents.length === 0;
  documents.textContent = `待补材料 Still to hand in (by ${fmt(p.documents_due_ms)}): ${p.missing_documents.join("、")}`;
  const timeline = document.getElementById("p-timeline");
  timeline.replaceChildren(...p.timeline.map((step) => {
    const li = document.createElement("li");
    li.className = step.at_ms ? "done" : "pending";
    li.textContent = `${step.name}: ${fmt(step.at_ms)}`;
    return li;
  }));
  text("p-contact", p.contact);
  document.getElementById("progress").hidden = false;
  document.getElementById("guide-policy").value = p.policy;
  await showGuide();
}

async function showGuide() {
  const policy = document.getElementById("guide-policy").value;
  const answer = await fetch(`${API}/public/guide?policy=${encodeURIComponent(policy)}`);
  if (!answer.ok) return;
  const g = await answer.json();
  const unit = g.unit === "working" ? "个工作日 working days" : "个自然日 natural days";
  text("g-limits", `${g.stages.join(" → ")} · 无外线 none ${g.days.none} / A类 ${g.days.A} / B类 ${g.days.B} ${unit}`);
  text("g-rule", g.rule);
  list("g-materials", g.materials);
  guideMaterials = g.materials;
  drawMissingChoices();
  list("g-steps", g.steps);
  const fees = Object.entries(g.fees).map(([item, price]) => `${item} ${price} 元`);
  text("g-fees", `报装、通气免费 Application and gas-on are free; 清单之外无收费 nothing off the list: ${fees.join("、") || "无 none"}`);
  text("g-contact", g.contact);
}

let guideMaterials = [];

function drawMissingChoices() {
  const fieldset = document.getElementById("apply-missing");
  const legend = fieldset.querySelector("legend");
  fieldset.replaceChildren(legend, ...guideMaterials.map((name) => {
    const label = document.createElement("label");
    const box = document.createElement("input");
    box.type = "checkbox";
    box.value = name;
    label.append(box, document.createTextNode(name));
    return label;
  }));
}

async function apply(event) {
  event.preventDefault();
  const form = event.target;
  const length = form.elements.pipe_length_m.value;
  const body = {
    policy: form.elements.policy.value,
    category: form.elements.category.value,
    applicant: form.elements.applicant.value.trim(),
    phone: form.elements.phone.value.trim(),
    address: form.elements.address.value.trim(),
    district: form.elements.district.value.trim(),
    pipe_length_m: length === "" ? null : Number(length),
    affects_others: form.elements.category.value === "none" ? null : form.elements.affects_others.checked,
    missing_documents: [...document.querySelectorAll("#apply-missing input:checked")].map((b) => b.value),
  };
  const answer = await fetch(`${API}/public/applications`, {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  });
  if (!answer.ok) {
    const detail = (await answer.json()).detail;
    text("apply-error", answer.status === 429 ? "申请过多，请稍后再试 Too many applications, please wait"
      : Array.isArray(detail) ? detail.map((d) => `${d.loc.at(-1)}: ${d.msg}`).join("; ") : String(detail));
    return;
  }
  text("apply-error", "");
  const r = await answer.json();
  text("r-number", r.number);
  text("r-code", r.query_code);
  text("r-deadline", r.deadline ? `办结期限 Deadline: ${r.deadline.slice(0, 16).replace("T", " ")}` : "");
  const missing = document.getElementById("r-missing");
  missing.hidden = r.missing_documents.length === 0;
  missing.textContent = `请于 ${fmt(r.documents_due_ms)} 前补交 Hand in by then: ${r.missing_documents.join("、")}`;
  document.getElementById("receipt").hidden = false;
  form.hidden = true;
}

document.getElementById("lookup").addEventListener("submit", lookUp);
document.getElementById("apply-form").addEventListener("submit", apply);
document.getElementById("guide-policy").addEventListener("change", showGuide);
showGuide();
