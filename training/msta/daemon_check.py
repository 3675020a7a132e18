"""A bundle's model as the daemon tests see it, simulated in PyTorch, so make-bundle can refuse a
model that would pass its own held-out clips and still fail in the daemon.

The daemon cuts clips differently from training: one frame per interval from the first frame
received, 8 frames, a new clip every `stride` frames, over whole files and streams (3 s clips in
the `probe` test; a demo video of 2.4 s actions between 1.6 s idle stretches in `probe` and
`e2e-daemon`). Windows there straddle cuts and catch a blinking ball off, which the training
windows rarely do. The judging mirrors those tests: every window of a file gets the file's label;
demo windows inside a segment (0.1 s margin) get its label; the start/end hysteresis with the
e2e test's settings must start every action the demo shows, and the starts it does not warrant (a
label the demo never shows, an action started again) are counted (`failures`)."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from . import synth, video
from .model import MSTAModel
from .paper.fit import features, prompt_ids
from .tokenizer import Tokenizer

STRIDE = 2
MARGIN_S = 0.1
# e2e-daemon's recognition section; smoothing is the config schema's default.
START, END, MIN_CLIPS, SMOOTHING = 0.5, 0.3, 2, 0.5


@dataclass
class Window:
    start_s: float
    end_s: float
    frames: np.ndarray


@dataclass
class DaemonCheck:
    seed: int
    file_top1: float
    file_windows: int
    demo_top1: float
    demo_windows: int
    misses: list[str] = field(default_factory=list)  # windows given another label
    spurious: list[str] = field(default_factory=list)  # starts of labels the demo never shows
    unstarted: list[str] = field(default_factory=list)  # demo actions that never started
    restarts: list[str] = field(default_factory=list)  # demo actions started more than once


def windows(frames: np.ndarray, fps: float, n: int, interval_ms: float, stride: int = STRIDE) -> list[Window]:
    """The daemon's clips of a whole video: sampled frame k at k * interval from the first frame,
    a clip of n samples every `stride` samples."""
    seconds = len(frames) / fps
    times = np.arange(0.0, seconds, interval_ms / 1000)
    out = []
    for first in range(0, len(times) - n + 1, stride):
        t = times[first:first + n]
        out.append(Window(float(t[0]), float(t[-1]), video.sample(frames, fps, t)))
    return out


def scores(model: MSTAModel, text: torch.Tensor, clips: list[Window]) -> np.ndarray:
    """Softmax over the labels' prompt embeddings `text`, as the bundle's graphs score them in the daemon."""
    video_embeds = features(model, np.stack([w.frames for w in clips]))
    return (model.logit_scale() * video_embeds @ text.T).softmax(-1).numpy()


def starts(probs: np.ndarray, background: int) -> list[tuple[int, int]]:
    """(label, clip index) of each start, in order, by the daemon's hysteresis (src/recognize/hysteresis.ts) on
    EMA-smoothed scores."""
    smoothed = None
    active, candidate, count, started = None, None, 0, []
    for i, p in enumerate(probs):
        smoothed = p if smoothed is None else SMOOTHING * p + (1 - SMOOTHING) * smoothed
        best = int(smoothed.argmax())
        qualifies = best != background and best != active and smoothed[best] >= START
        count = count + 1 if qualifies and candidate == best else (1 if qualifies else 0)
        candidate = best if qualifies else None
        if active is not None and smoothed[active] < END:
            active = None
        if candidate is not None and count >= MIN_CLIPS:
            active, candidate, count = candidate, None, 0
            started.append((active, i))
    return started


def _file_windows(work: Path, seed: int, labels: list[str], seconds: float, size: int, n: int,
                  interval_ms: float) -> tuple[list[Window], list[str]]:
    """A file of `seconds` per label, as `synthClips` makes them for the probe test: its windows and their labels."""
    entries = synth.write_dataset(work, seed, 1, seconds, tuple(labels))
    out, truth = [], []
    for e in entries:
        frames, fps = video.decode(work / e["file"], size)
        ws = windows(frames, fps, n, interval_ms)
        out += ws
        truth += [e["label"]] * len(ws)
    return out, truth


def _segment(w: Window, timeline: list[dict]) -> str | None:
    """The label of the timeline segment the window lies inside (with the tests' margin), if any."""
    return next((s["label"] for s in timeline if w.start_s >= s["start_s"] + MARGIN_S and w.end_s <= s["end_s"] - MARGIN_S), None)


def check(model: MSTAModel, tokenizer: Tokenizer, labels: list[str], seed: int, work: Path,
          interval_ms: float, file_seconds: float = 3.0) -> DaemonCheck:
    """One seed: a file of `file_seconds` per label and one demo video, rendered and decoded as the
    daemon tests make them."""
    size, n = model.cfg.image_size, model.cfg.frames
    with torch.no_grad():
        text = model.encode_text(prompt_ids(tokenizer, labels, model.cfg.context_length))
    file_windows, truth = _file_windows(work / f"files-{seed}", seed, labels, file_seconds, size, n, interval_ms)
    file_pred = [labels[i] for i in scores(model, text, file_windows).argmax(-1)]
    misses = [f"{seed} file: {t} -> {p}" for t, p in zip(truth, file_pred) if p != t]
    file_wrong = len(misses)

    demo_path = work / f"demo-{seed}.mp4"
    timeline = synth.write_demo(demo_path, seed=seed)
    frames, fps = video.decode(demo_path, size)
    demo_windows = windows(frames, fps, n, interval_ms)
    demo_probs = scores(model, text, demo_windows)
    judged = [(w, want, labels[int(p.argmax())]) for w, p in zip(demo_windows, demo_probs)
              if (want := _segment(w, timeline)) is not None]
    misses += [f"{seed} demo at {w.start_s:.2f} s: {want} -> {got}" for w, want, got in judged if got != want]

    shown = {s["label"] for s in timeline} - {synth.IDLE}
    at = [(labels[i], demo_windows[k].start_s) for i, k in starts(demo_probs, labels.index(synth.IDLE))]
    started = [s for s, _ in at]
    return DaemonCheck(
        seed, 1 - file_wrong / len(file_windows), len(file_windows),
        1 - (len(misses) - file_wrong) / max(len(judged), 1), len(judged), misses,
        spurious=[f"{seed} demo started {s!r} at {t:.2f} s, which it never shows" for s, t in at if s not in shown],
        unstarted=[f"{seed} demo never started {s!r}" for s in sorted(shown - set(started))],
        restarts=[f"{seed} demo started {s!r} {started.count(s)} times" for s in sorted(set(started)) if started.count(s) > 1])


def failures(checks: list[DaemonCheck], top1: float = 0.95) -> list[str]:
    """What the daemon tests fail on: a seed's file or demo top-1 under their bar (0.95), or a
    demo action that never starts. Starts the demo does not warrant (a label it never shows, or an
    action started again) are counted in the summary, not failed: they happen at cuts, where a
    ball comes into view, and the e2e test judges only the demo's first two actions."""
    out = []
    for c in checks:
        out += [f"seed {c.seed}: {name} top-1 {v:.3f} < {top1}" for name, v in (("file", c.file_top1), ("demo", c.demo_top1)) if v < top1]
        out += c.unstarted
    return out


def summary(checks: list[DaemonCheck]) -> str:
    return json.dumps([{"seed": c.seed, "file_top1": round(c.file_top1, 4), "file_windows": c.file_windows,
                        "demo_top1": round(c.demo_top1, 4), "demo_windows": c.demo_windows,
                        "spurious": len(c.spurious), "unstarted": len(c.unstarted), "restarts": len(c.restarts)}
                       for c in checks])
