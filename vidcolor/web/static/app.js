// The page: pick or upload a film, set options, preview a frame, queue it, watch the queue
// live, compare and download. All through the JSON API (api.js).
import { api, listen, upload } from "./api.js";
import { Compare } from "./compare.js";
import { Quality } from "./quality.js";
import { Steer } from "./steer.js";

const $ = (selector) => document.querySelector(selector);
const jobs = new Map();
let chosen = null; // { input } or { upload }, with a name to show
let selected = null; // the job shown in Compare
const compare = new Compare($("#compare"));
let steer = null, quality = null; // made once the page's helpers are defined

// -- small helpers ------------------------------------------------------------------------
function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function duration(seconds) {
  if (seconds === null || seconds === undefined) return "";
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? `${h} h ${String(m).padStart(2, "0")} min` : m ? `${m} min ${String(r).padStart(2, "0")} s` : `${r} s`;
}

function size(bytes) {
  if (bytes === null || bytes === undefined) return "";
  const units = ["B", "KB", "MB", "GB", "TB"];
  let i = 0;
  while (bytes >= 1024 && i < units.length - 1) { bytes /= 1024; i += 1; }
  return `${bytes.toFixed(i ? 1 : 0)} ${units[i]}`;
}

function showError(message) { $("#form-error").textContent = message || ""; }

function choose(source, name) {
  chosen = source;
  $("#chosen").textContent = name;
  showError("");
}

// -- browsing the server's folders ----------------------------------------------------------
async function browse(path) {
  try {
    const data = await api(path ? `/api/files?path=${encodeURIComponent(path)}` : "/api/files");
    const crumbs = $("#crumbs");
    crumbs.replaceChildren(el("button", { type: "button", class: "link", onclick: () => browse(null),
                                          textContent: "Folders" }));
    if (data.path) crumbs.append(" / ", el("span", { textContent: data.path }));
    const list = $("#entries");
    list.replaceChildren();
    if (data.parent) {
      list.append(el("li", {}, el("button", { type: "button", class: "entry folder", textContent: "..",
                                              onclick: () => browse(data.parent) })));
    }
    for (const entry of data.entries) {
      const button = el("button", { type: "button", class: `entry ${entry.kind}`, title: entry.path },
                        el("span", { class: "name", textContent: entry.name }),
                        el("span", { class: "size", textContent: size(entry.size) }));
      button.addEventListener("click", () => {
        if (entry.kind === "folder") return browse(entry.path);
        for (const b of list.querySelectorAll(".entry")) b.classList.remove("picked");
        button.classList.add("picked");
        choose({ input: entry.path }, entry.name);
      });
      list.append(el("li", {}, button));
    }
    if (!data.entries.length) list.append(el("li", { class: "muted", textContent: "No films or photos here." }));
  } catch (e) {
    showError(e.message);
  }
}

// -- uploading ---------------------------------------------------------------------------------
async function send(file) {
  const bar = $("#upload-progress"), status = $("#upload-status");
  bar.hidden = false;
  bar.value = 0;
  status.textContent = `Uploading ${file.name} (${size(file.size)})…`;
  try {
    const done = await upload(file, (share) => { bar.value = share; });
    bar.value = 1;
    status.textContent = `Uploaded ${done.name} (${size(done.size)}).`;
    choose({ upload: done.id }, done.name);
  } catch (e) {
    status.textContent = "";
    showError(e.message);
  }
}

// -- settings ----------------------------------------------------------------------------------
function options() {
  const form = $("#settings");
  const out = {};
  for (const name of ["preset", "model", "start", "duration"]) {
    const value = form.elements[name].value.trim();
    if (value) out[name] = value;
  }
  if (form.elements.input_size.value) out.input_size = Number(form.elements.input_size.value);
  out.smooth_strength = Number(form.elements.smooth_strength.value);
  const extra = form.elements.extra.value.trim();
  if (extra) Object.assign(out, JSON.parse(extra));
  return out;
}

function restore(values) {
  const form = $("#settings");
  const { preset = "", model = "", start = "", duration: length = "", input_size = "", smooth_strength = 0.5,
          ...extra } = values;
  Object.assign(form.elements.preset, { value: preset });
  form.elements.model.value = model;
  form.elements.start.value = start;
  form.elements.duration.value = length;
  form.elements.input_size.value = input_size ? String(input_size) : "";
  form.elements.smooth_strength.value = String(smooth_strength);
  $("#strength-value").textContent = String(smooth_strength);
  form.elements.extra.value = Object.keys(extra).length ? JSON.stringify(extra) : "";
}

const SETS = "vidcolor.settings";
function savedSets() { try { return JSON.parse(localStorage.getItem(SETS)) || {}; } catch { return {}; } }
function listSets() {
  const select = $("#sets");
  select.replaceChildren(el("option", { value: "", textContent: "Saved settings…" }));
  for (const name of Object.keys(savedSets()).sort()) select.append(el("option", { value: name, textContent: name }));
}

// -- the queue ---------------------------------------------------------------------------------
function row(job) {
  const progress = job.frames_total ? job.frames_done / job.frames_total : job.state === "done" ? 1 : 0;
  const bar = el("progress", { max: 1, value: progress });
  const frames = job.frames_total ? `${job.frames_done} / ${job.frames_total}` : job.frames_done ? `${job.frames_done}` : "";
  const actions = el("td", { class: "actions" });
  const act = (label, handler, cls = "") => actions.append(el("button", { type: "button", class: cls, textContent: label,
                                                                          onclick: (e) => { e.stopPropagation(); handler(); } }));
  if (job.state === "queued" || job.state === "running") act("Cancel", () => post(`/api/jobs/${job.id}/cancel`));
  if (job.state === "failed" || job.state === "cancelled") act("Retry", () => post(`/api/jobs/${job.id}/retry`));
  if (job.state === "queued") act("↑", () => post(`/api/jobs/${job.id}/move`, { to: Math.max(0, order().indexOf(job.id) - 1) }), "small");
  if (job.state !== "running") act("Remove", () => api(`/api/jobs/${job.id}`, { method: "DELETE" }).catch((e) => showError(e.message)));
  if (job.result_url) {
    actions.prepend(el("a", { class: "button", href: `${job.result_url}?download=1`, textContent: "Download",
                              onclick: (e) => e.stopPropagation() }));
  }
  const state = el("td", {}, el("span", { class: `state ${job.state}`, textContent: job.state }));
  if (job.error) state.append(el("div", { class: "error small", textContent: job.error }));
  const film = el("td", { class: "film", title: job.input }, el("span", { textContent: job.name }));
  if (job.picture_url && job.state === "running") {
    film.prepend(el("img", { class: "picture", src: job.picture_url, alt: "the latest frame colorized" }));
  }
  const tr = el("tr", { class: job.id === selected ? "selected" : "", onclick: () => select(job.id) },
                film,
                state,
                el("td", {}, bar, el("div", { class: "small muted", textContent: frames })),
                el("td", { textContent: job.fps ? `${job.fps.toFixed(1)} fps` : "" }),
                el("td", { textContent: job.state === "running" ? duration(job.eta_seconds)
                  : job.state === "done" && job.started && job.finished ? `took ${duration(job.finished - job.started)}` : "" }),
                actions);
  tr.dataset.id = job.id;
  return tr;
}

function order() {
  return [...jobs.values()].sort((a, b) => (a.position ?? 0) - (b.position ?? 0)).map((j) => j.id);
}

function render() {
  const body = $("#jobs tbody");
  const sorted = [...jobs.values()].sort((a, b) => (a.position ?? 0) - (b.position ?? 0));
  body.replaceChildren(...sorted.map(row));
  $("#empty").hidden = jobs.size > 0;
  $("#jobs").hidden = jobs.size === 0;
  $("#zip").hidden = ![...jobs.values()].some((j) => j.state === "done");
}

async function post(path, body = {}) {
  try { await api(path, { method: "POST", body }); } catch (e) { showError(e.message); }
}

// -- comparing -------------------------------------------------------------------------------
function select(id) {
  selected = id;
  render();
  const job = jobs.get(id);
  if (!job) return;
  const done = job.state === "done";
  $("#compare-what").textContent = done ? `${job.name}: the film as it was, and colorized. Drag the split; zoom to look closer.`
    : `${job.name}: ${job.state}. The comparison is ready once it is done.`;
  $("#time-control").hidden = !done;
  const download = $("#download");
  download.hidden = !done;
  const player = $("#player");
  $("#stills").hidden = false;
  if (done && job.kind === "video") {
    setPlayers(`/api/jobs/${job.id}/video?which=before`, `/api/jobs/${job.id}/video?which=after`, job.start_seconds || 0);
    player.onloadedmetadata = () => { if (player.duration) $("#time").max = String(player.duration); };
  } else {
    setPlayers(null);
  }
  if (done) {
    download.href = `${job.result_url}?download=1`;
    const total = job.frames_total || 1;
    $("#time").max = String(Math.max(0.04, total / 24));
    showFrame();
  } else {
    $("#compare").hidden = false;
  }
  if (job.kind === "video") steer.show(job);
  else steer.hide();
  if (job.kind === "video" && done) quality.show(job);
  else quality.hide();
}

// The colorized film's player leads; the original follows it, offset by the part's start.
let offset = 0;
function follow() {
  const lead = $("#player"), other = $("#player-before");
  const sync = () => {
    if (!other.src) return;
    const want = lead.currentTime + offset;
    if (Math.abs(other.currentTime - want) > 0.08) other.currentTime = want;
  };
  lead.addEventListener("play", () => { sync(); other.play().catch(() => {}); });
  lead.addEventListener("pause", () => { other.pause(); sync(); });
  lead.addEventListener("seeked", sync);
  lead.addEventListener("ratechange", () => { other.playbackRate = lead.playbackRate; });
  lead.addEventListener("timeupdate", () => { if (lead.paused) sync(); });
  setInterval(() => { if (!lead.paused) sync(); }, 1000);
}

function showFrame() {
  const job = jobs.get(selected);
  if (!job || job.state !== "done") return;
  const t = Number($("#time").value);
  $("#time-value").textContent = `${t.toFixed(2)} s`;
  compare.show(`/api/jobs/${job.id}/frame?which=before&t=${t}`, `/api/jobs/${job.id}/frame?which=after&t=${t}`);
}

// -- previews ---------------------------------------------------------------------------------
const KEPT_PREVIEWS = 6;

function describe(options) {
  const parts = [options.model || "default model", `size ${options.input_size || 512}`];
  if (options.smooth_strength !== undefined) parts.push(`smoothing ${options.smooth_strength}`);
  if (options.preset) parts.push(options.preset);
  return parts.join(" · ");
}

async function preview(button, what) {
  if (!chosen) return showError("Choose a film first (on the server, or upload one).");
  const label = button.textContent;
  button.disabled = true;
  button.textContent = "Colorizing…";
  try {
    const p = await api("/api/previews", { method: "POST", body: { ...chosen, ...what, options: options() } });
    const card = el("div", { class: "card" },
                    el("div", { class: "card-title", textContent: `${p.name}: ${describe(p.options)}` }));
    const row = el("div", { class: "thumbs" });
    if (p.clip) {
      const play = el("button", { type: "button", class: "thumb clip",
                                  textContent: `▶ ${p.clip.seconds} s from ${p.clip.time.toFixed(2)} s` });
      play.addEventListener("click", () => showClip(p));
      row.append(play);
    }
    for (const f of p.frames) {
      const thumb = el("button", { type: "button", class: "thumb", title: "Compare this frame" },
                       el("img", { src: f.after, alt: `colorized at ${f.time.toFixed(2)} s` }),
                       el("span", { textContent: `${f.time.toFixed(2)} s` }));
      thumb.addEventListener("click", () => showPreview(p, f));
      row.append(thumb);
    }
    card.append(row);
    const cards = $("#preview-cards");
    cards.prepend(card);
    while (cards.children.length > KEPT_PREVIEWS) cards.lastChild.remove();
    $("#previews").hidden = false;
    if (p.clip) showClip(p);
    else showPreview(p, p.frames[0]);
    showError("");
  } catch (err) { showError(err.message); }
  finally { button.disabled = false; button.textContent = label; }
}

function leaveJob() {
  selected = null;
  steer.hide();
  quality.hide();
  render();
  $("#time-control").hidden = true;
  $("#download").hidden = true;
}

function showPreview(p, frame) {
  leaveJob();
  $("#compare-what").textContent = `Preview of ${p.name} at ${frame.time.toFixed(2)} s: ${describe(p.options)}.`;
  setPlayers(null);
  $("#stills").hidden = false;
  compare.show(frame.before, frame.after);
}

function showClip(p) {
  leaveJob();
  $("#compare-what").textContent = `Preview of ${p.name}, ${p.clip.seconds} s from ${p.clip.time.toFixed(2)} s: `
    + `${describe(p.options)}.`;
  $("#stills").hidden = true;
  $("#compare").hidden = false;
  setPlayers(p.clip.before, p.clip.after, 0);
}

// The two players: the original (before) and the colorized film, which leads; null hides them.
function setPlayers(before, after, start = 0) {
  const show = Boolean(after);
  $("#players").hidden = $("#player-view").hidden = !show;
  if (!show) return;
  offset = start;
  const lead = $("#player");
  if (!lead.src.endsWith(after)) {
    lead.src = after;
    $("#player-before").src = before;
  }
  showPlayers();
}

function showPlayers() {
  const split = $("#view-mode").value === "split";
  $("#players").classList.toggle("split", split);
  $("#player-split-control").hidden = !split;
  const at = Number($("#player-split").value);
  // Split: the original over the left part; its bottom strip left open for the colorized film's controls.
  $("#player-before").style.clipPath = split ? `inset(0 ${100 - at}% 64px 0)` : "";
}

// -- start ------------------------------------------------------------------------------------
async function start() {
  steer = new Steer({ onError: showError });
  quality = new Quality({ onError: showError });
  follow();
  const config = await api("/api/config");
  const form = $("#settings");
  for (const p of config.presets) form.elements.preset.append(el("option", { value: p, textContent: p }));
  for (const m of config.models) form.elements.model.append(el("option", { value: m, textContent: m }));
  restore({ smooth_strength: config.defaults.smooth_strength });
  form.elements.smooth_strength.addEventListener("input", (e) => { $("#strength-value").textContent = e.target.value; });
  listSets();
  $("#sets").addEventListener("change", (e) => { if (e.target.value) restore(savedSets()[e.target.value]); });
  $("#save-set").addEventListener("click", () => {
    const name = prompt("Name these settings");
    if (!name) return;
    try { localStorage.setItem(SETS, JSON.stringify({ ...savedSets(), [name]: options() })); listSets(); }
    catch (e) { showError(`Settings: ${e.message}`); }
  });

  for (const tab of document.querySelectorAll("[data-tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[data-tab]")) {
        other.setAttribute("aria-selected", String(other === tab));
        $(`#${other.dataset.tab}`).hidden = other !== tab;
      }
    });
  }
  $("#file").addEventListener("change", (e) => { if (e.target.files[0]) send(e.target.files[0]); });
  const drop = $("#drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    if (e.dataTransfer.files[0]) send(e.dataTransfer.files[0]);
  });

  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    if (!chosen) return showError("Choose a film first (on the server, or upload one).");
    try {
      const job = await api("/api/jobs", { method: "POST", body: { ...chosen, options: options() } });
      jobs.set(job.id, { ...jobs.get(job.id), ...job });
      render();
      showError("");
    } catch (err) { showError(err.message); }
  });
  $("#preview").addEventListener("click", (e) => preview(e.currentTarget, { time: Number($("#preview-time").value) || 0 }));
  $("#preview-shots").addEventListener("click", (e) => preview(e.currentTarget, { shots: true }));
  $("#preview-clip").addEventListener("click", (e) => preview(e.currentTarget,
    { time: Number($("#preview-time").value) || 0, seconds: 2 }));
  $("#view-mode").addEventListener("change", showPlayers);
  $("#player-split").addEventListener("input", showPlayers);
  $("#time").addEventListener("change", showFrame);
  $("#time").addEventListener("input", () => { $("#time-value").textContent = `${Number($("#time").value).toFixed(2)} s`; });

  listen({
    onState: (state) => {
      const c = $("#connection");
      c.textContent = state === "live" ? "live" : state;
      c.className = `connection ${state}`;
    },
    onJobs: (list) => {
      jobs.clear();
      for (const job of list) jobs.set(job.id, job);
      render();
    },
    onJob: (job) => {
      const before = jobs.get(job.id);
      if (job.removed) jobs.delete(job.id);
      else jobs.set(job.id, { ...before, ...job });
      render();
      if (job.id === selected && !job.removed && (!before || before.state !== job.state)) select(job.id);
    },
  });
  browse(null);
}

start().catch((e) => showError(e.message));
