// Steering a job's colors: its shots as keyframes, a corrected one sent back, color points
// clicked onto them, and the job run again (the server's /keyframes and /hints).
import { api } from "./api.js";

const $ = (selector) => document.querySelector(selector);

export class Steer {
  constructor({ onError }) {
    this.onError = onError;
    this.job = null;
    this.keys = [];
    this.hints = [];
    this.current = null;
    $("#find-shots").addEventListener("click", () => this.find());
    $("#rerun").addEventListener("click", () => this.rerun());
    $("#points-save").addEventListener("click", () => this.saveHints());
    $("#points-clear").addEventListener("click", () => {
      this.hints = this.hints.filter((h) => h.frame !== this.current.frame);
      this.drawPoints();
    });
    $("#keyframe-image").addEventListener("click", (e) => this.addPoint(e));
    $("#keyframe-file").addEventListener("change", (e) => { if (e.target.files[0]) this.send(e.target.files[0]); });
  }

  status(text) { $("#steer-status").textContent = text; }

  async show(job) {
    this.job = job;
    $("#steer").hidden = false;
    $("#rerun").disabled = job.state === "running" || job.state === "queued";
    try {
      [this.keys, this.hints] = await Promise.all([api(`/api/jobs/${job.id}/keyframes`), api(`/api/jobs/${job.id}/hints`)]);
    } catch (e) { return this.onError(e.message); }
    this.drawStrip();
    if (this.current) this.choose(this.keys.find((k) => k.name === this.current.name) || null);
  }

  hide() { $("#steer").hidden = true; this.job = null; this.current = null; }

  async find(overwrite = false) {
    const button = $("#find-shots");
    button.disabled = true;
    this.status("Finding the shots and colorizing a keyframe of each…");
    try {
      this.keys = await api(`/api/jobs/${this.job.id}/keyframes`, { method: "POST", body: { overwrite } });
      this.status(`${this.keys.length} shot(s).`);
      this.drawStrip();
    } catch (e) {
      this.status("");
      if (!overwrite && /overwrite/.test(e.message) && confirm("Find the shots again? Corrected keyframes are replaced.")) {
        return this.find(true);
      }
      this.onError(e.message);
    } finally { button.disabled = false; }
  }

  drawStrip() {
    const strip = $("#strip");
    strip.replaceChildren();
    for (const key of this.keys) {
      const points = this.hints.filter((h) => h.frame === key.frame).length;
      const figure = document.createElement("button");
      figure.type = "button";
      figure.className = `shot${key.corrected ? " corrected" : ""}${this.current && this.current.name === key.name ? " chosen" : ""}`;
      const img = document.createElement("img");
      img.src = `${key.url}?v=${Date.now()}`;
      img.alt = `keyframe at ${key.time.toFixed(2)} s`;
      const caption = document.createElement("span");
      caption.textContent = `${key.time.toFixed(2)} s${key.corrected ? " · corrected" : ""}${points ? ` · ${points} point(s)` : ""}`;
      figure.append(img, caption);
      figure.addEventListener("click", () => this.choose(key));
      strip.append(figure);
    }
    if (!this.keys.length) strip.textContent = "No keyframes yet: find the shots.";
  }

  choose(key) {
    this.current = key;
    $("#keyframe").hidden = !key;
    if (!key) return;
    $("#keyframe-image").src = `${key.url}?v=${Date.now()}`;
    $("#keyframe-download").href = key.url;
    $("#keyframe-download").download = key.name;
    this.drawStrip();
    $("#keyframe-image").onload = () => this.drawPoints();
  }

  addPoint(e) {
    const img = e.currentTarget;
    const x = Math.round((e.offsetX / img.clientWidth) * img.naturalWidth);
    const y = Math.round((e.offsetY / img.clientHeight) * img.naturalHeight);
    const radius = Math.max(1, Number($("#point-radius").value) || 12);
    this.hints.push({ frame: this.current.frame, x, y, color: $("#point-color").value, radius });
    this.drawPoints();
  }

  drawPoints() {
    const view = $("#keyframe-view"), img = $("#keyframe-image");
    for (const dot of view.querySelectorAll(".point")) dot.remove();
    if (!this.current || !img.naturalWidth) return;
    for (const h of this.hints.filter((p) => p.frame === this.current.frame)) {
      const dot = document.createElement("span");
      dot.className = "point";
      const size = (2 * h.radius / img.naturalWidth) * 100;
      dot.style.left = `${(h.x / img.naturalWidth) * 100}%`;
      dot.style.top = `${(h.y / img.naturalHeight) * 100}%`;
      dot.style.width = `${size}%`;
      dot.style.background = h.color;
      view.append(dot);
    }
  }

  async saveHints() {
    try {
      this.hints = await api(`/api/jobs/${this.job.id}/hints`, { method: "PUT", body: this.hints });
      this.status(`${this.hints.length} color point(s) kept.`);
      this.drawStrip();
    } catch (e) { this.onError(e.message); }
  }

  async send(file) {
    try {
      const response = await fetch(this.current.url, { method: "PUT", body: file });
      if (!response.ok) throw new Error((await response.json()).error);
      this.status(`${this.current.name}: the corrected keyframe is kept.`);
      await this.show(this.job);
    } catch (e) { this.onError(e.message); }
  }

  async rerun() {
    try {
      await api(`/api/jobs/${this.job.id}/retry`, { method: "POST", body: {} });
      this.status("Queued again: it follows the corrected keyframes and the color points.");
    } catch (e) { this.onError(e.message); }
  }
}
