// Before/after: two images in one stage, so zoom and pan move both together; the split shows
// the "after" image right of the divider.

export class Compare {
  constructor(root) {
    this.root = root;
    this.viewer = root.querySelector("#viewer");
    this.stage = root.querySelector("#stage");
    this.before = root.querySelector("#before");
    this.after = root.querySelector("#after");
    this.divider = root.querySelector("#divider");
    this.split = root.querySelector("#split");
    this.zoom = 1;
    this.pan = { x: 0, y: 0 };
    this.split.addEventListener("input", () => this.showSplit());
    root.querySelector("#zoom-in").addEventListener("click", () => this.setZoom(this.zoom * 1.5));
    root.querySelector("#zoom-out").addEventListener("click", () => this.setZoom(this.zoom / 1.5));
    root.querySelector("#zoom-fit").addEventListener("click", () => { this.pan = { x: 0, y: 0 }; this.setZoom(1); });
    this.viewer.addEventListener("wheel", (e) => {
      e.preventDefault();
      this.setZoom(this.zoom * (e.deltaY < 0 ? 1.25 : 0.8));
    }, { passive: false });
    let drag = null;
    this.viewer.addEventListener("pointerdown", (e) => {
      if (this.zoom <= 1) return;
      drag = { x: e.clientX - this.pan.x, y: e.clientY - this.pan.y };
      this.viewer.setPointerCapture(e.pointerId);
    });
    this.viewer.addEventListener("pointermove", (e) => {
      if (!drag) return;
      this.pan = { x: e.clientX - drag.x, y: e.clientY - drag.y };
      this.place();
    });
    this.viewer.addEventListener("pointerup", () => { drag = null; });
    this.showSplit();
  }

  show(beforeUrl, afterUrl) {
    this.before.src = beforeUrl;
    this.after.src = afterUrl;
    this.root.hidden = false;
  }

  showSplit() {
    const at = Number(this.split.value);
    this.after.style.clipPath = `inset(0 0 0 ${at}%)`;
    this.divider.style.left = `${at}%`;
  }

  setZoom(zoom) {
    this.zoom = Math.min(8, Math.max(1, zoom));
    if (this.zoom === 1) this.pan = { x: 0, y: 0 };
    this.place();
  }

  place() {
    this.stage.style.transform = `translate(${this.pan.x}px, ${this.pan.y}px) scale(${this.zoom})`;
    this.viewer.classList.toggle("zoomed", this.zoom > 1);
  }
}
