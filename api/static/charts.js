// Time-series charts of the meter page (issue 23), on uPlot (vendored in
// static/vendor/uplot, MIT; no CDN): local time (UTC+8) on the axis, several series on
// their own scales, drag across to zoom, the wheel to zoom about the cursor, ← → (the
// chart focused) to pan, double-click to see everything again; the alarms' and commands'
// moments marked on the timeline (red: an alarm opened, blue dashed: a command sent).
"use strict";

const CHART_ZONE = "Asia/Shanghai";
const CHART_COLOURS = ["#3fb950", "#d29922", "#539bf5", "#e5534b"];
const meterCharts = {};
const CHART_TIME = new Intl.DateTimeFormat("zh-CN", { timeZone: CHART_ZONE, hour: "2-digit", minute: "2-digit", hour12: false });
const CHART_DAY = new Intl.DateTimeFormat("zh-CN", { timeZone: CHART_ZONE, month: "2-digit", day: "2-digit" });

// 24-hour local times on the axis, the date under the first tick of each day
function axisTimes(_u, splits) {
  let lastDay = "";
  return splits.map((seconds) => {
    const at = new Date(seconds * 1000);
    const day = CHART_DAY.format(at);
    const text = CHART_TIME.format(at);
    const shown = day === lastDay ? text : `${text}\n${day}`;
    lastDay = day;
    return shown;
  });
}

function legendTime(_u, seconds) {
  if (seconds === null || seconds === undefined) return "--";
  const at = new Date(seconds * 1000);
  return `${CHART_DAY.format(at)} ${CHART_TIME.format(at)}`;
}

function chartMarks(marks) {
  return {
    hooks: {
      draw: [(u) => {
        const { ctx } = u;
        const { left, top, width, height } = u.bbox;
        let drawn = 0;
        ctx.save();
        for (const mark of marks) {
          const x = Math.round(u.valToPos(mark.ts / 1000, "x", true));
          if (x < left || x > left + width) continue;
          ctx.strokeStyle = mark.kind === "alarm" ? "#e5534b" : "#539bf5";
          ctx.setLineDash(mark.kind === "alarm" ? [] : [6, 4]);
          ctx.lineWidth = 2;
          ctx.beginPath();
          ctx.moveTo(x, top);
          ctx.lineTo(x, top + height);
          ctx.stroke();
          drawn += 1;
        }
        ctx.restore();
        u.root.parentElement.dataset.marks = String(drawn);
      }],
    },
  };
}

function chartNavigation() {
  return {
    hooks: {
      ready: [(u) => {
        u.over.addEventListener("wheel", (event) => {
          event.preventDefault();
          const { min, max } = u.scales.x;
          const at = u.posToVal(event.offsetX, "x");
          const factor = event.deltaY < 0 ? 0.75 : 1 / 0.75;
          u.setScale("x", { min: at - (at - min) * factor, max: at + (max - at) * factor });
        }, { passive: false });
        u.root.parentElement.addEventListener("keydown", (event) => {
          if (event.key !== "ArrowLeft" && event.key !== "ArrowRight") return;
          event.preventDefault();
          const { min, max } = u.scales.x;
          const step = (max - min) * 0.2 * (event.key === "ArrowLeft" ? -1 : 1);
          u.setScale("x", { min: min + step, max: max + step });
        });
      }],
      setScale: [(u, key) => {
        if (key !== "x") return;
        const box = u.root.parentElement;
        box.dataset.xmin = String(Math.round(u.scales.x.min));
        box.dataset.xmax = String(Math.round(u.scales.x.max));
      }],
    },
  };
}

// series: [{label, scale, values}], all at the times of xs (epoch ms); marks: [{ts, kind}]
function timeChart(containerId, xs, series, marks) {
  const box = document.getElementById(containerId);
  if (meterCharts[containerId]) meterCharts[containerId].destroy();
  delete meterCharts[containerId];
  box.replaceChildren();
  if (xs.length < 2) {
    const empty = document.createElement("p");
    empty.className = "sub";
    empty.textContent = "无数据 no data";
    box.append(empty);
    return;
  }
  const scales = [...new Set(series.map((s) => s.scale))];
  const options = {
    width: Math.max(300, box.clientWidth - 8),
    height: 220,
    tzDate: (seconds) => uPlot.tzDate(new Date(seconds * 1000), CHART_ZONE),
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true } },
    series: [
      { label: "时间 time", value: legendTime },
      ...series.map((s, i) => ({ label: s.label, scale: s.scale, stroke: CHART_COLOURS[i], width: 2, spanGaps: true })),
    ],
    axes: [
      { stroke: "#9da7b3", grid: { stroke: "#2d333b" }, values: axisTimes, size: 56 },
      ...scales.map((scale, i) => ({
        scale, side: i === 0 ? 3 : 1, stroke: "#9da7b3", grid: { show: i === 0, stroke: "#2d333b" },
        label: scale,
      })),
    ],
    plugins: [chartMarks(marks), chartNavigation()],
  };
  const data = [xs.map((ms) => ms / 1000), ...series.map((s) => s.values)];
  meterCharts[containerId] = new uPlot(options, data, box);
}

window.addEventListener("resize", () => {
  for (const [id, chart] of Object.entries(meterCharts)) {
    chart.setSize({ width: Math.max(300, document.getElementById(id).clientWidth - 8), height: 220 });
  }
});
