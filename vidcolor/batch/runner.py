"""Run a batch: find the inputs, decide from the manifest what is left, run it on an engine,
record every step as it happens, and report.

The driver (this module) owns the manifest; workers only colorize. A long film is planned into
segments here, its segments run as separate tasks (on any worker), and once all are in the work
folder they are joined here into the output, without re-encoding.
"""
from __future__ import annotations

import hashlib
import json
import shutil
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, wait
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

from ..errors import OptionError, VidcolorError, option
from ..media.atomic import atomic_output, remove_stale_partials
from ..media.decode import expected_frames, stream_has_alpha
from ..media.encode import output_muxer
from ..media.probe import open_input, video_stream
from ..media.timeline import make_span
from ..models import DEFAULT_MODEL
from ..models.colorizer import on_gpu, resolve_weights
from ..options import Guides, RunOptions
from ..pipeline import interlace_of
from ..console import for_run
from ..progress import QUIET, KeepingNotices, Listener, Progress, Task
from ..provenance import record, sha256_file
from .engines import WorkerDied, check_main_guard, make_engine
from ..resume.film import SegmentedFilm, one_piece_reason
from ..resume.fingerprint import fingerprint, same_settings, work_settings
from ..resume.manifest import DONE, FAILED, Item, Manifest
from ..resume.segments import BATCH_SEGMENT_SECONDS, film_seconds, plan_segments
from .sources import Source, find_sources, references_beside
from ..temporal.reference_files import film_references as read_film_references
from .tasks import REPORT_EVERY, FileTask, SegmentTask, task_key


@dataclass
class ItemReport:
    input: str
    output: str
    kind: str
    state: str  # done, failed, or pending (not reached: interrupted)
    skipped: bool = False  # done in an earlier run, nothing to do now
    seconds: float | None = None  # working time, all runs together
    frames: int | None = None  # in the output
    frames_now: int = 0  # written in this run (the rest was resumed)
    colorized_now: int = 0  # frames through the network in this run (context frames included)
    segments: int = 0
    segments_resumed: int = 0  # finished by an earlier run, used as they were
    worker: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was decided for it, where nothing is lost
    # A film with references: [first, last] runs of its frames (seconds on the output's clock) they
    # hold less than half of, where another keyframe would help.
    needs_reference: list[list[float]] = field(default_factory=list)


@dataclass
class BatchSummary:
    out_dir: str
    engine: str
    seconds: float
    items: list[ItemReport]

    def count(self, state: str) -> int:
        return sum(1 for i in self.items if i.state == state)

    @property
    def failed(self) -> int:
        return self.count(FAILED)

    def write(self, path: Path) -> None:
        data = {"out_dir": self.out_dir, "engine": self.engine, "seconds": round(self.seconds, 3),
                "done": self.count(DONE), "failed": self.failed, "skipped": sum(i.skipped for i in self.items),
                "items": [asdict(i) for i in self.items]}
        with atomic_output(path) as tmp:
            tmp.write_text(json.dumps(data, indent=2) + "\n")


def run_batch(sources: list[str], out_dir, *, engine: str = "local", jobs: int | None = None,
              address: str | None = None, retry_failed: bool = False,
              segment_seconds: float = BATCH_SEGMENT_SECONDS, report=None, overwrite: bool = False,
              quiet: bool = False, on_progress: Listener | None = None, **options) -> BatchSummary:
    """Colorize every video and still in ``sources`` (files, folders, glob patterns) into ``out_dir``,
    mirroring their folders. Rerun to resume: finished items are skipped, changed ones redone,
    failed ones retried with ``retry_failed``; a long film resumes from its last finished segment.
    ``options``: a ``RunOptions``'s fields by name, as ``colorize_video`` takes them (a quality
    ``report`` excepted); ``segment_seconds`` is the batch's own (its unit of parallel work).

    Progress counts frames across every item to do (a still is one), and each item's own; it
    goes to bars on stderr unless ``quiet``, and as ``vidcolor.progress.Event``s to ``on_progress``.
    """
    options = RunOptions.from_mapping(options)
    if options.part.fps is not None:
        raise OptionError("fps", f"{option('fps')} is for one image sequence; a batch takes files, and folders "
                                 "of files")
    given = _given_references(options.guides.references, options.guides.hints)
    film_seconds(segment_seconds)
    if not sources:
        raise VidcolorError("no inputs given")
    if engine == "local":
        check_main_guard()
    out_dir = Path(out_dir).absolute()  # workers elsewhere (Ray) do not share this working folder
    if out_dir.exists() and not out_dir.is_dir():
        raise VidcolorError(f"{out_dir}: exists and is not a folder")
    found = find_sources(sources, out_dir)
    if given is not None and not (len(found) == 1 and found[0].kind == "video"):
        raise VidcolorError("references and hints given to a batch are for its one film; a batch of several takes "
                            "them from beside each film, as NAME.refs/ (keyframes) and NAME.hints.json")
    out_dir.mkdir(parents=True, exist_ok=True)
    batch = _Batch(out_dir, found, options, engine, jobs, address, retry_failed, segment_seconds, overwrite,
                   for_run(quiet, on_progress), given)
    try:
        summary = batch.run()
    except BaseException:
        batch.close(interrupted=True)
        raise
    batch.close()
    if report is not None:
        summary.write(Path(report))
    return summary


def _given_references(references: tuple, hints) -> tuple[Path | None, Path | None] | None:
    """A batch's one film's references, given (a folder of keyframes, a hints file), or None."""
    if len(references) > 1 or references and not isinstance(references[0], str):
        raise OptionError("references", "a batch's film takes one folder of keyframes")
    references = references[0] if references else None
    if not references and not hints:
        return None
    refs, hints = (Path(references) if references else None), (Path(hints) if hints else None)
    if refs is not None and not refs.is_dir():
        raise VidcolorError(f"{refs}: not a folder of keyframes (a batch's film takes a folder)")
    if hints is not None and not hints.is_file():
        raise VidcolorError(f"{hints}: no such file")
    return refs, hints


def _references_identity(refs: Path | None, hints: Path | None) -> list[str]:
    """What a film's references are (its keyframes, its hints): each file with its SHA-256."""
    files = sorted(refs.iterdir()) if refs else []
    return [f"{p.name}:{sha256_file(p)[:16]}" for p in files + ([hints] if hints else []) if p.is_file()]


def batch_status(out_dir) -> list[tuple[Item, int, int]]:
    """Every item of the batch in ``out_dir`` with (segments finished, segments planned or 0)."""
    manifest = Manifest(Path(out_dir), create=False)
    try:
        return [(item, *manifest.segment_progress(item)) for item in manifest.items()]
    finally:
        manifest.close()


@dataclass
class _Job:
    """One item being worked on in this run."""

    source: Source
    dst: Path
    report: ItemReport
    started: float
    film: SegmentedFilm | None = None
    span: object = None
    remaining: int = 0
    deaths: int = 0
    failed: bool = False
    frames: int = 0  # expected, for progress
    task: Task | None = None  # its own progress
    written: dict = field(default_factory=dict)  # frames written so far, by task key
    waiting: deque = field(default_factory=deque)  # segments that start from what the one running saves


class _Batch:
    def __init__(self, out_dir: Path, sources: list[Source], options: RunOptions, engine: str, jobs: int | None,
                 address: str | None, retry_failed: bool, segment_seconds: float, overwrite: bool,
                 progress: Progress = QUIET, given: tuple[Path | None, Path | None] | None = None):
        self.out_dir, self.sources, self.progress, self.given = out_dir, sources, progress, given
        self.engine_args = (engine, jobs, options.model.device, address)
        self.retry_failed, self.segment_seconds, self.overwrite = retry_failed, segment_seconds, overwrite
        model = options.model
        # Workers elsewhere (Ray) do not share this working folder; a film's references are its own.
        model = replace(model, model=model.model or DEFAULT_MODEL) if model.weights is None else \
            replace(model, weights=str(Path(model.weights).absolute()))
        self.options = replace(options, model=model, guides=Guides())
        self.strength = options.strength
        self.encode = replace(options.encode, keep_up=on_gpu(model.device))
        self.settings = {kind: work_settings(self.options, kind) for kind in ("image", "video")}
        self.manifest = Manifest(out_dir)
        self.engine = None
        self.weights_path: Path | None = None  # known once the first task is submitted
        self.reports: list[ItemReport] = []

    # -- the run ------------------------------------------------------------------------
    def run(self) -> BatchSummary:
        t0 = time.perf_counter()
        todo = deque(job for job in map(self._triage, self.sources) if job is not None)
        ready: deque = deque()
        running: dict = {}
        self.jobs = {str(job.source.path): job for job in todo}
        self.total = self.progress.task("batch", f"batch of {len(todo)}", sum(job.frames for job in todo))
        try:
            while todo or ready or running:
                while len(running) < self._capacity() and (todo or ready):
                    if not ready:
                        job = todo.popleft()
                        ready.extend((job, task) for task in self._begin(job))
                        continue
                    job, task = ready.popleft()
                    if not job.failed:
                        running[self._submit(task)] = (job, task)
                if running:
                    finished, _ = wait(running, timeout=REPORT_EVERY, return_when=FIRST_COMPLETED)
                    if self.engine is not None:
                        for key, frames, picture in self.engine.progress():
                            self._written(key, frames, picture)
                    for future in finished:
                        job, task = running.pop(future)
                        following = self._finished(job, task, future)
                        if following is not None:
                            ready.appendleft((job, following))
        finally:
            self.total.end()
        return BatchSummary(str(self.out_dir), self.engine.describe if self.engine else "none needed",
                            time.perf_counter() - t0, self.reports)

    def close(self, interrupted: bool = False) -> None:
        if self.engine is not None:
            self.engine.close(interrupted)
        self.manifest.close()

    def _weights_file(self) -> Path:
        if self.weights_path is None:
            model = self.options.model
            self.weights_path = resolve_weights(model.model, model.weights, progress=self.progress)
        return self.weights_path

    def _capacity(self) -> int:
        return self.engine.capacity if self.engine is not None else 1

    def _submit(self, task):
        if self.engine is None:
            self._weights_file()  # downloaded (once, here, with its progress bar) before any worker needs it
            self.engine = make_engine(*self.engine_args)
        return self.engine.submit(task)

    # -- items --------------------------------------------------------------------------
    def _triage(self, source: Source) -> _Job | None:
        """The job for ``source``, or None where the manifest says there is nothing to do."""
        key, dst = str(source.path), self.out_dir / source.output
        report = ItemReport(key, str(dst), source.kind, "pending")
        self.reports.append(report)
        prior = self.manifest.item(key)
        settings = self.settings[source.kind]
        if source.kind == "video" and any(self._references_of(source.path)):  # a changed keyframe redoes it
            settings = {**settings, "references": _references_identity(*self._references_of(source.path))}
        try:
            print_ = fingerprint(source.path)
        except OSError as e:
            report.state, report.error = FAILED, f"{source.path}: cannot read ({e.strerror})"
            return None
        same = prior is not None and prior.fingerprint == print_ and same_settings(prior.settings, settings)
        if same and prior.state == DONE and dst.is_file() and dst.stat().st_size == prior.output_size:
            report.state, report.skipped, report.seconds, report.frames = DONE, True, prior.seconds, prior.frames
            return None
        if same and prior.state == FAILED and not self.retry_failed:
            report.state, report.skipped, report.error = FAILED, True, prior.error
            return None
        # An output this batch finished earlier may be replaced; anyone else's file may not.
        ours = prior is not None and prior.state == DONE and dst.is_file() and dst.stat().st_size == prior.output_size
        if not same or prior.state == DONE:
            self.manifest.reset(key, str(source.output), source.kind, print_, settings)
            shutil.rmtree(self._work(source), ignore_errors=True)
        if dst.exists() and not ours and not self.overwrite:
            report.state, report.error = FAILED, f"{dst}: already exists (use {option('overwrite')} to replace it)"
            self.manifest.start(key)
            self.manifest.fail(key, report.error, 0.0)
            return None
        return _Job(source, dst, report, 0.0, frames=self._frames_of(source))

    def _frames_of(self, source: Source) -> int:
        """About how many frames ``source`` will give (a still one), for progress; 0 where unknown."""
        if source.kind == "image":
            return 1
        try:
            with open_input(source.path) as container:
                stream = video_stream(container, source.path)
                span = make_span(container, stream, source.path, self.options.part.start, self.options.part.duration)
                return expected_frames(stream, container, span) or 0
        except VidcolorError:
            return 0  # the item fails when it starts, with this error

    def _written(self, key: tuple[str, int], frames: int, picture: bytes | None = None) -> None:
        """A task of an item has written ``frames`` frames so far (and shows ``picture``)."""
        job = self.jobs.get(key[0])
        if job is None or job.task is None:
            return
        if picture is not None:
            job.task.show(picture)
        delta = frames - job.written.get(key, 0)
        job.written[key] = frames
        if delta:
            job.task.advance(delta)
            self.total.advance(delta)

    def _retotal(self, job: _Job, frames: int) -> None:
        """``job`` is now expected to give ``frames`` frames."""
        if frames != job.frames:
            self.total.set_total((self.total.event.total or 0) + frames - job.frames)
            job.frames = frames
            if job.task is not None:
                job.task.set_total(frames)

    def _begin(self, job: _Job) -> list:
        """Start ``job``: its tasks (none when it is already complete or cannot be done)."""
        job.started = time.perf_counter()
        src, dst = job.source.path, job.dst
        job.task = self.progress.task("item", src.name, job.frames)
        self.manifest.start(str(src))
        dst.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(dst)
        if job.source.kind == "image":
            return [FileTask(src, dst, self.options)]
        try:
            with open_input(src) as container:
                stream = video_stream(container, src)
                job.span = make_span(container, stream, src, self.options.part.start, self.options.part.duration)
                cc = stream.codec_context
                settings, notes = self.encode.resolve(output_muxer(dst), dst, cc.width, cc.height,
                                                      stream_has_alpha(stream))
                refs, hints = self._references_of(src)
                segmented = one_piece_reason(codec=settings.codec, skip_color=self.options.color.skip_color) is None
                item = self.manifest.item(str(src))  # as recorded: a finished segment's plan is the same plan
                identity = f"{item.fingerprint}|{item.settings}"
                plan = plan_segments(container, stream, src, job.span, self.strength, self.segment_seconds,
                                     identity) if segmented else None
            guide = None
            if plan is not None and len(plan.segments) > 1:  # a film in one piece probes in its worker
                told = KeepingNotices(QUIET)  # the notice goes with the item
                interlace = interlace_of(src, self.options.part.deinterlace, told)
                if one_piece_reason(codec=settings.codec, interlace=interlace):
                    plan = None
                elif refs or hints:  # its segments carry the references' colors, one to the next, in order
                    with open_input(src) as container:
                        stream = video_stream(container, src)
                        guide = read_film_references(src, container, stream, (str(refs),) if refs else None,
                                                     hints, interlace, told)
                        plan = plan_segments(container, stream, src, job.span, self.strength, self.segment_seconds,
                                             identity, guide.times())
        except VidcolorError as e:
            self._fail(job, str(e))
            return []
        if plan is None or len(plan.segments) == 1:  # the worker tells its own notices
            options = self.options.replace(smooth_strength=self.strength, segment_seconds=None)
            if refs or hints:
                options = options.replace(references=(str(refs),) if refs else None, hints=str(hints) if hints else None)
                job.report.notes.append(f"{src}: follows " + " and ".join(str(p.name) for p in (refs, hints) if p))
            return [FileTask(src, dst, options)]
        job.report.warnings += [f"{dst}: {n}" for n, lost in notes if lost] + told.notices.warnings
        job.report.notes += [f"{dst}: {n}" for n, lost in notes if not lost] + told.notices.notes
        if guide is not None:
            job.report.notes.append(f"{src}: follows " + " and ".join(str(p.name) for p in (refs, hints) if p))
        job.film = SegmentedFilm(self.manifest, str(src), plan, self._work(job.source), settings.codec,
                                 carried=guide is not None)
        todo = job.film.todo()
        self._retotal(job, plan.frames)
        if job.film.frames:  # finished segments of an earlier run
            job.task.resume(job.film.frames)
            self.total.resume(job.film.frames)
        job.report.segments = len(plan.segments)
        job.report.segments_resumed = len(plan.segments) - len(todo)
        tasks = [SegmentTask(src, part, job.film.run_part(segment), settings, self.strength, self.options.model,
                             interlace, segment.index, guide) for segment, part in todo]
        job.remaining = len(tasks)
        if not tasks:
            self._join(job)
        if guide is not None:  # each segment starts from what the one before saved
            job.waiting = deque(tasks[1:])
            return tasks[:1]
        return tasks

    def _finished(self, job: _Job, task, future):
        """Record a finished task; returns the task to run next for its item: itself, to be
        retried, or the segment that starts from what it saved."""
        try:
            result = future.result()
        except WorkerDied as e:
            if job.deaths < getattr(self.engine, "retries_on_death", 0):
                job.deaths += 1
                self._written(task_key(task), 0)  # it starts again from its first frame
                return task
            self._fail(job, f"{job.source.path}: {e}")
            return None
        except VidcolorError as e:
            self._fail(job, str(e))
            return None
        except Exception as e:  # a bug, reported with the item, not fatal to the batch
            self._fail(job, f"{job.source.path}: internal error: {type(e).__name__}: {e}")
            return None
        self._written(task_key(task), result.frames)
        job.report.frames_now += result.frames
        job.report.colorized_now += result.colorized
        job.report.worker = result.worker
        job.report.warnings += result.warnings
        job.report.notes += result.notes
        if isinstance(task, SegmentTask):
            job.film.record(task.index, result.frames, result.colorized, result.seconds, result.cuts, result.unreached)
            job.remaining -= 1
            if job.remaining == 0 and not job.failed:
                self._join(job)
            if job.waiting and not job.failed:
                return job.waiting.popleft()
        elif not job.failed:
            job.report.needs_reference = result.unreached
            self._done(job, result.frames)  # what became of the other streams is in its warnings
        return None

    def _join(self, job: _Job) -> None:
        src, dst = job.source.path, job.dst
        try:
            weights, options = self._weights_file(), self.options
            model = options.model.model if options.model.weights is None else weights.name
            m = options.model
            made = record(src, model, weights, {
                **{k: v for k, v in options.settings().items() if k not in ("model", "weights")},
                "input_size": m.input_size, "parity": m.parity, "precision": m.precision,
                "smooth_strength": self.strength, "segments": len(job.film.plan.segments)})
            streams = job.film.join(src, dst, job.span, options.audio, made)
        except VidcolorError as e:
            self._fail(job, str(e))
            return
        job.report.warnings += streams.warnings(src, dst)
        job.report.needs_reference = job.film.needs_reference
        self._done(job, job.film.frames)
        job.film.discard()

    def _done(self, job: _Job, frames: int) -> None:
        seconds = time.perf_counter() - job.started
        self.manifest.done(str(job.source.path), frames, sha256_file(job.dst), job.dst.stat().st_size, seconds)
        item = self.manifest.item(str(job.source.path))
        job.report.state, job.report.frames, job.report.seconds = DONE, frames, item.seconds
        self._retotal(job, frames)
        job.task.end()

    def _fail(self, job: _Job, message: str) -> None:
        if job.failed:
            return
        job.failed = True
        self.manifest.fail(str(job.source.path), message, time.perf_counter() - job.started)
        job.report.state, job.report.error = FAILED, message
        job.report.seconds = self.manifest.item(str(job.source.path)).seconds
        self._retotal(job, (job.task.done if job.task is not None else 0))  # what it will not give is not to come
        if job.task is not None:
            job.task.end()

    def _references_of(self, film: Path) -> tuple[Path | None, Path | None]:
        """(keyframes folder, hints file) of a film: those given for the batch's one film, else
        those beside it."""
        return self.given if self.given is not None else references_beside(film)

    def _work(self, source: Source) -> Path:
        return self.manifest.work / hashlib.sha256(str(source.path).encode()).hexdigest()[:16]
