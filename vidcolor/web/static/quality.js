// A finished film's steadiness (vidcolor eval): its numbers, and where along the film its scene
// cuts and the frames whose motion could not be followed lie.
import { api } from "./api.js";

const $ = (selector) => document.querySelector(selector);
const NAMES = { e_warp: "Warping error", cdc: "Color consistency (CDC)", colorfulness: "Colorfulness" };

export class Quality {
  constructor({ onError }) {
    this.onError = onError;
    this.job = null;
    $("#measure").addEventListener("click", () => this.measure());
  }

  async show(job) {
    this.job = job;
    $("#quality").hidden = false;
    $("#quality-numbers").replaceChildren();
    $("#timeline").hidden = $("#legend").hidden = true;
    $("#quality-status").textContent = "";
    try {
      const report = await api(`/api/jobs/${job.id}/quality`);
      if (report) this.draw(report);
    } catch (e) { this.onError(e.message); }
  }

  hide() { $("#quality").hidden = true; this.job = null; }

  async measure() {
    const button = $("#measure");
    button.disabled = true;
    $("#quality-status").textContent = "Measuring, frame by frame…";
    try {
      const report = await api(`/api/jobs/${this.job.id}/quality`, { method: "POST", body: {} });
      this.draw(report);
    } catch (e) {
      $("#quality-status").textContent = "";
      this.onError(e.message);
    } finally { button.disabled = false; }
  }

  draw(report) {
    const numbers = $("#quality-numbers");
    numbers.replaceChildren();
    const metrics = report.metrics.colorized;
    for (const [key, name] of Object.entries(NAMES)) {
      if (metrics[key] === null || metrics[key] === undefined) continue;
      const dt = document.createElement("dt");
      dt.textContent = name;
      dt.title = report.definitions[key] || "";
      const dd = document.createElement("dd");
      dd.textContent = metrics[key].toFixed(4);
      numbers.append(dt, dd);
    }
    const line = $("#timeline");
    line.replaceChildren();
    const frames = Math.max(1, report.frames);
    const mark = (at, kind, title) => {
      const m = document.createElement("span");
      m.className = `mark ${kind}`;
      m.style.left = `${(100 * at.frame) / frames}%`;
      m.title = title;
      line.append(m);
    };
    for (const r of report.needs_reference || []) {
      const span = document.createElement("span");
      span.className = "mark unreached";
      span.style.left = `${(100 * r.first_frame) / frames}%`;
      span.style.width = `${Math.max(0.4, (100 * (r.last_frame - r.first_frame + 1)) / frames)}%`;
      span.title = `${r.first.toFixed(2)}-${r.last.toFixed(2)} s: the references hold less than half of the picture`;
      line.append(span);
    }
    for (const c of report.scene_cuts) mark(c, "cut", `scene cut at frame ${c.frame}`);
    for (const u of report.untrusted_frames) mark(u, "weak", `frame ${u.frame}: ${Math.round(100 * u.trust)}% followed`);
    line.hidden = $("#legend").hidden = false;
    const unreached = (report.needs_reference || []).length;
    $("#quality-status").textContent = `${report.frames} frames, ${report.scene_cuts.length} scene cut(s), `
      + `${report.untrusted_frames.length} frame(s) of motion not followed`
      + (unreached ? `, ${unreached} stretch(es) where another keyframe would help.` : ".");
  }
}
