"""Synthetic action world: coloured shapes on a grey background that move, grow, shrink or blink.

Colour and direction are what tell the actions apart, so a swapped colour channel (red <-> blue)
or a reversed frame order (left <-> right, growing <-> shrinking) in a consumer shows up as wrong
labels. Scenes live in continuous coordinates (frame height = 1) so the same scene renders to a
160x120 video file or straight into the model's centre crop (pretraining needs no codec)."""
from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import numpy as np

COLOURS = {"red": (215, 35, 35), "blue": (35, 70, 220), "green": (40, 170, 60), "yellow": (225, 200, 40)}
SHAPES = ("ball", "square")
MOTIONS = ("moving left", "moving right", "moving up", "moving down", "growing", "shrinking", "blinking",
           "standing still")
IDLE = "nothing happening"
# The labelled set (the bundle's labels): red and blue balls doing the seven actions, plus idle.
LABEL_COLOURS = ("red", "blue")
LABEL_MOTIONS = MOTIONS[:7]
LABELS = tuple(f"{c} ball {m}" for c in LABEL_COLOURS for m in LABEL_MOTIONS) + (IDLE,)
# Base-to-novel split: every colour and every motion appears among the base labels, but the
# novel labels are unseen combinations (and are never trained on by the adapters).
NOVEL_LABELS = ("red ball moving right", "red ball moving down", "red ball shrinking",
                "blue ball moving left", "blue ball moving up", "blue ball growing", "blue ball blinking")
BASE_LABELS = tuple(label for label in LABELS if label not in NOVEL_LABELS)

FPS = 25
FRAME_SIZE = (160, 120)
BLINK_PERIOD = 0.64  # s, half on, half off


@dataclass
class Scene:
    colour: str | None  # None: empty background
    shape: str
    motion: str
    seconds: float
    background: int
    rgb: tuple[int, int, int]
    start: tuple[float, float]  # centre, in centre-square coordinates (0..1)
    velocity: tuple[float, float]  # units / s
    radius: tuple[float, float]  # start, end
    blink_phase: float

    def state(self, t: float) -> tuple[float, float, float, bool]:
        """centre x, centre y (square coordinates), radius, visible"""
        f = min(max(t / self.seconds, 0.0), 1.0)
        x = self.start[0] + self.velocity[0] * t
        y = self.start[1] + self.velocity[1] * t
        r = self.radius[0] + (self.radius[1] - self.radius[0]) * f
        visible = self.colour is not None
        if self.motion == "blinking":
            visible = visible and ((t + self.blink_phase) % BLINK_PERIOD) < BLINK_PERIOD / 2
        return x, y, r, visible


def _label_parts(label: str) -> tuple[str | None, str, str]:
    if label == IDLE:
        return None, "ball", IDLE
    colour, shape, motion = label.split(" ", 2)
    return colour, shape, motion


def make_scene(rng: np.random.Generator, colour: str | None, shape: str, motion: str, seconds: float) -> Scene:
    margin = 0.04
    jitter = rng.integers(-18, 19, size=3)
    rgb = tuple(int(v) for v in np.clip(np.array(COLOURS.get(colour or "red", (0, 0, 0))) + jitter, 0, 255))
    background = int(rng.integers(80, 150))
    r = float(rng.uniform(0.09, 0.13))
    radius = (r, r)
    velocity = (0.0, 0.0)
    lo, hi = r + margin, 1 - r - margin
    start = (float(rng.uniform(lo, hi)), float(rng.uniform(lo, hi)))
    travel = float(rng.uniform(0.5, 0.95)) * (hi - lo)
    axis = {"moving left": (0, -1), "moving right": (0, 1), "moving up": (1, -1), "moving down": (1, 1)}
    if motion in axis:
        dim, sign = axis[motion]
        pos = list(start)
        free = (hi - lo - travel) * float(rng.uniform())
        pos[dim] = hi - free if sign < 0 else lo + free  # start where the whole path stays in view
        start = (pos[0], pos[1])
        v = [0.0, 0.0]
        v[dim] = sign * travel / seconds
        velocity = (v[0], v[1])
    elif motion in ("growing", "shrinking"):
        small, big = float(rng.uniform(0.04, 0.07)), float(rng.uniform(0.26, 0.32))
        radius = (small, big) if motion == "growing" else (big, small)
        c = 0.5 + rng.uniform(-0.08, 0.08, size=2)
        start = (float(c[0]), float(c[1]))
    return Scene(colour, shape, motion, seconds, background, rgb, start, velocity, radius,
                 float(rng.uniform(0, BLINK_PERIOD)))


def scene_for_label(rng: np.random.Generator, label: str, seconds: float) -> Scene:
    colour, shape, motion = _label_parts(label)
    return make_scene(rng, colour, shape, motion, seconds)


def render(scene: Scene, t: float, width: int, height: int, window: tuple[float, float, float, float],
           rng: np.random.Generator | None = None) -> np.ndarray:
    """RGB uint8 [height, width, 3] of the scene at time t; window = (x0, y0, x1, y1) in frame
    coordinates (frame height 1; the centre square spans x in [(aspect-1)/2, (aspect+1)/2])."""
    x0, y0, x1, y1 = window
    xs = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
    ys = y0 + (np.arange(height) + 0.5) * (y1 - y0) / height
    px = (y1 - y0) / height  # one output pixel in scene units, for anti-aliasing
    frame = np.full((height, width, 3), float(scene.background), dtype=np.float32)
    cx, cy, r, visible = scene.state(t)
    if visible:
        aspect = FRAME_SIZE[0] / FRAME_SIZE[1]
        dx = xs[None, :] - (cx + (aspect - 1) / 2)
        dy = ys[:, None] - cy
        dist = np.sqrt(dx**2 + dy**2) if scene.shape == "ball" else np.maximum(np.abs(dx), np.abs(dy)) * 1.1
        cover = np.clip((r - dist) / px + 0.5, 0.0, 1.0)[..., None]
        frame = frame * (1 - cover) + np.array(scene.rgb, dtype=np.float32) * cover
    if rng is not None:
        frame += rng.normal(0, 3.0, size=frame.shape).astype(np.float32)
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)


def centre_window() -> tuple[float, float, float, float]:
    aspect = FRAME_SIZE[0] / FRAME_SIZE[1]
    return ((aspect - 1) / 2, 0.0, (aspect + 1) / 2, 1.0)


def full_window() -> tuple[float, float, float, float]:
    return (0.0, 0.0, FRAME_SIZE[0] / FRAME_SIZE[1], 1.0)


def write_mp4(path: Path, frames: np.ndarray, fps: int = FPS, crf: int = 18) -> None:
    """frames uint8 [N, H, W, 3] RGB -> H.264 yuv420p .mp4 with ffmpeg."""
    n, h, w, _ = frames.shape
    cmd = ["ffmpeg", "-v", "error", "-y", "-f", "rawvideo", "-pix_fmt", "rgb24", "-s", f"{w}x{h}",
           "-r", str(fps), "-i", "-", "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf),
           "-pix_fmt", "yuv420p", "-movflags", "+faststart", str(path)]
    proc = subprocess.run(cmd, input=frames.tobytes(), capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not write {path}: {proc.stderr.decode(errors='replace').strip()}")


def render_clip(scene: Scene, rng: np.random.Generator, size: tuple[int, int] = FRAME_SIZE, fps: int = FPS) -> np.ndarray:
    n = int(round(scene.seconds * fps))
    return np.stack([render(scene, i / fps, size[0], size[1], full_window(), rng) for i in range(n)])


def write_dataset(out: Path, seed: int, per_class: int, seconds: float, labels: tuple[str, ...] = LABELS,
                  cut_s: float = 0.0) -> list[dict]:
    """cut_s > 0: each action clip gets an empty-background stretch of that length (its own shade)
    before it or, every other clip, after it: the cut a camera shows when something comes into
    view or leaves, which must read as the action, not as a blink."""
    out.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    entries = []
    for label in labels:
        for k in range(per_class):
            name = f"{label.replace(' ', '_')}_{seed}_{k:03d}.mp4"
            frames = render_clip(scene_for_label(rng, label, seconds), rng)
            if cut_s > 0 and label != IDLE:
                empty = render_clip(scene_for_label(rng, IDLE, cut_s), rng)
                frames = np.concatenate([empty, frames] if k % 2 == 0 else [frames, empty])
            write_mp4(out / name, frames)
            entries.append({"file": name, "label": label})
    (out / "labels.json").write_text(json.dumps(entries, indent=1) + "\n")
    return entries


# --- text: captions for pretraining, descriptions for the consistency loss -------------------

_MOTION_PHRASES = {
    "moving left": ["moving left", "going left", "moves to the left"],
    "moving right": ["moving right", "going right", "moves to the right"],
    "moving up": ["moving up", "going up", "rises upwards"],
    "moving down": ["moving down", "going down", "falls downwards"],
    "growing": ["growing", "getting bigger", "grows larger"],
    "shrinking": ["shrinking", "getting smaller", "shrinks"],
    "blinking": ["blinking", "flashing on and off", "blinks"],
    "standing still": ["standing still", "not moving", "stays in place"],
}
_SHAPE_WORDS = {"ball": ["ball", "circle"], "square": ["square", "box"]}
_IDLE_CAPTIONS = ["nothing happening", "an empty background", "an empty grey scene", "nothing moves"]


def concepts() -> list[tuple[str | None, str, str]]:
    """Everything the pretraining corpus covers: 4 colours x 2 shapes x 8 motions, plus idle."""
    return [(c, s, m) for c in COLOURS for s in SHAPES for m in MOTIONS] + [(None, "ball", IDLE)]


def captions(concept: tuple[str | None, str, str]) -> list[str]:
    colour, shape, motion = concept
    if colour is None:
        return list(_IDLE_CAPTIONS)
    out = []
    for s in _SHAPE_WORDS[shape]:
        for m in _MOTION_PHRASES[motion]:
            out += [f"a {colour} {s} {m}", f"a video of a {colour} {s} {m}."]
    out.append(f"{colour} {shape} {motion}")
    return out


# What the frames show, told apart by where the object is and how big, in words the pretraining
# corpus taught the text tower (colour alone would give every same-colour class the same spatial
# mean, and L_CC would pull those classes' prompts together).
_SPATIAL = {
    "moving left": ["a {c} round {s} going left on a plain grey background",
                    "one {c} {s} moves to the left"],
    "moving right": ["a {c} round {s} going right on a plain grey background",
                     "one {c} {s} moves to the right"],
    "moving up": ["a {c} round {s} going up on a plain grey background",
                  "one {c} {s} rises towards the top"],
    "moving down": ["a {c} round {s} going down on a plain grey background",
                    "one {c} {s} falls towards the bottom"],
    "growing": ["a {c} round {s} getting bigger on a plain grey background",
                "one {c} {s} starts small and gets bigger"],
    "shrinking": ["a {c} round {s} getting smaller on a plain grey background",
                  "one {c} {s} starts big and gets smaller"],
    "blinking": ["a {c} round {s} flashing on and off on a plain grey background",
                 "one {c} {s} appears and disappears"],
}
_TEMPORAL = {
    "moving left": ["the {c} ball slides from the right side to the left side",
                    "the {c} ball keeps going left across the scene"],
    "moving right": ["the {c} ball slides from the left side to the right side",
                     "the {c} ball keeps going right across the scene"],
    "moving up": ["the {c} ball rises from the bottom towards the top",
                  "the {c} ball keeps going up"],
    "moving down": ["the {c} ball falls from the top towards the bottom",
                    "the {c} ball keeps going down"],
    "growing": ["the {c} ball starts small and gets bigger and bigger",
                "the {c} ball grows larger over time"],
    "shrinking": ["the {c} ball starts big and gets smaller and smaller",
                  "the {c} ball shrinks over time"],
    "blinking": ["the {c} ball appears and disappears again and again",
                 "the {c} ball flashes on and off"],
}


def descriptions(labels: tuple[str, ...] = LABELS) -> dict[str, dict[str, list[str]]]:
    """Two spatial and two temporal descriptions per label (the paper has an LLM write them)."""
    out = {}
    for label in labels:
        colour, shape, motion = _label_parts(label)
        if colour is None:
            out[label] = {"spatial": ["an empty grey background", "a plain grey scene with no objects"],
                          "temporal": ["nothing moves at all", "the scene stays empty the whole time"]}
            continue
        out[label] = {"spatial": [s.format(c=colour, s=shape) for s in _SPATIAL[motion]],
                      "temporal": [s.format(c=colour) for s in _TEMPORAL[motion]]}
    return out


def corpus() -> list[str]:
    """Text the tiny vocabulary is learned from: all captions and descriptions."""
    texts = [c for concept in concepts() for c in captions(concept)]
    for d in descriptions().values():
        texts += d["spatial"] + d["temporal"]
    texts += [f"a video of {label}." for label in LABELS]
    return texts


def write_demo(path: Path, seed: int = 7, size: tuple[int, int] = (320, 240)) -> list[dict]:
    """One mp4 with actions in sequence separated by empty-background stretches, and its timeline
    (written beside it as <name>.json)."""
    rng = np.random.default_rng(seed)
    plan = ["red ball moving right", "blue ball moving left", "red ball growing", "blue ball moving up",
            "red ball blinking", "blue ball shrinking", "red ball moving down"]
    idle_s, action_s = 1.6, 2.4
    frames, timeline, t = [], [], 0.0
    for label in plan:
        for scene_label, seconds in ((IDLE, idle_s), (label, action_s)):
            scene = scene_for_label(rng, scene_label, seconds)
            n = int(round(seconds * FPS))
            frames += [render(scene, i / FPS, size[0], size[1], full_window(), rng) for i in range(n)]
            timeline.append({"label": scene_label, "start_s": round(t, 3), "end_s": round(t + n / FPS, 3)})
            t += n / FPS
    scene = scene_for_label(rng, IDLE, idle_s)
    n = int(round(idle_s * FPS))
    frames += [render(scene, i / FPS, size[0], size[1], full_window(), rng) for i in range(n)]
    timeline.append({"label": IDLE, "start_s": round(t, 3), "end_s": round(t + n / FPS, 3)})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_mp4(path, np.stack(frames), crf=23)
    meta = {"video": path.name, "fps": FPS, "width": size[0], "height": size[1], "seconds": round(t + n / FPS, 3),
            "timeline": timeline}
    path.with_suffix(".json").write_text(json.dumps(meta, indent=1) + "\n")
    return timeline


def sample_times(seconds: float, frames: int, interval_ms: float, rng: np.random.Generator | None) -> np.ndarray:
    """T sampling instants one interval apart, at a random (or the centred) offset in the clip."""
    span = (frames - 1) * interval_ms / 1000
    slack = max(seconds - span - 1e-3, 0.0)
    start = rng.uniform(0, slack) if rng is not None else slack / 2
    return start + np.arange(frames) * interval_ms / 1000


def pretrain_clip(rng: np.random.Generator, concept: tuple[str | None, str, str], frames: int, size: int,
                  interval_ms: float) -> np.ndarray:
    """A window of T frames rendered straight into the model's centre crop."""
    span = (frames - 1) * interval_ms / 1000
    seconds = float(rng.uniform(span + 0.1, span + 0.9))  # as short as the window: motion at full speed
    scene = make_scene(rng, concept[0], concept[1], concept[2], seconds)
    times = sample_times(seconds, frames, interval_ms, rng)
    return np.stack([render(scene, float(t), size, size, centre_window(), rng) for t in times])

