"""The experiment's synthetic world: a pretraining corpus that never shows the 15 target labels,
the targets' descriptions, and clips rendered in memory straight into the model's input.

Held-out compositions: red and blue appear only on squares that stand still; the seven target
motions appear only on green and yellow balls. The targets ("red ball moving left", ...) pair a
colour seen only on still squares with a motion seen only on other colours, so the bare
backbone has to compose them zero-shot. Description-style sentences for the source concepts
teach the text tower the vocabulary the targets' descriptions use."""
from __future__ import annotations

import numpy as np

from .. import synth

TARGETS = synth.LABELS  # 14 red / blue ball actions + "nothing happening"
BASE = synth.BASE_LABELS  # 8, for base-to-novel
NOVEL = synth.NOVEL_LABELS  # 7
# Validation split inside the base labels (lambda / epochs are chosen on it; novel stays unseen).
VAL_NOVEL = ("red ball moving up", "blue ball shrinking", "red ball blinking")
VAL_BASE = tuple(label for label in BASE if label not in VAL_NOVEL)

SOURCE_BALL_COLOURS = ("green", "yellow")
SQUARE_MOTIONS = ("standing still",)
CLIP_SECONDS = 2.0
INTERVAL_MS = 160.0

# Reversing time turns each of these into the other; blinking and idle stay what they are.
_REVERSED = {"moving left": "moving right", "moving right": "moving left", "moving up": "moving down",
             "moving down": "moving up", "growing": "shrinking", "shrinking": "growing"}


def reversed_label(label: str) -> str:
    """The label a time-reversed clip of `label` shows."""
    for motion, other in _REVERSED.items():
        if label.endswith(" " + motion):
            return label[: -len(motion)] + other
    return label


def source_concepts(square_motions: tuple[str, ...] | None = None) -> list[tuple]:
    """What pretraining sees: every colour on squares doing `square_motions`, green and yellow
    balls doing every motion, and the empty scene. No target composition is among them."""
    out = [(c, "square", m) for c in synth.COLOURS for m in (square_motions or SQUARE_MOTIONS)]
    out += [(c, "ball", m) for c in SOURCE_BALL_COLOURS for m in synth.MOTIONS]
    out.append((None, "ball", synth.IDLE))
    targets = {(c, "ball", m) for c in synth.LABEL_COLOURS for m in synth.MOTIONS}
    assert not targets & set(out), "a target composition leaked into pretraining"
    return out


# The source concepts' spatial sentences name colour and shape only (as the targets' did when the
# backbone was made; the targets' own now tell their motions apart too, synth._SPATIAL).
_SPATIAL = {"ball": ["a {c} round ball on a plain grey background", "one {c} circle, nothing else in view"],
            "square": ["a {c} square box on a plain grey background", "one {c} square, nothing else in view"]}
_STILL = ["the {c} ball stays in the same place", "the {c} ball does not move at all"]


def description_sentences(concept: tuple) -> list[str]:
    """Description-style sentences for a source concept, written like the targets' descriptions."""
    colour, shape, motion = concept
    if colour is None:
        d = synth.descriptions((synth.IDLE,))[synth.IDLE]
        return d["spatial"] + d["temporal"]
    temporal = _STILL if motion == "standing still" else synth._TEMPORAL[motion]
    return ([s.format(c=colour) for s in _SPATIAL[shape]]
            + [s.format(c=colour).replace(" ball ", f" {shape} ") for s in temporal])


def generic_captions(concept: tuple) -> list[str]:
    """Captions that name one attribute alone ("a ball moving left", "something red"), so the
    text tower learns colour and motion as separate words rather than as whole phrases."""
    colour, shape, motion = concept
    if colour is None:
        return []
    phrases = synth._MOTION_PHRASES[motion]
    return ([f"a {shape} {m}" for m in phrases] + [f"something {m}" for m in phrases]
            + [f"something {colour}", f"a {colour} object", f"a video of something {colour}."])


def source_captions(concept: tuple) -> list[str]:
    return synth.captions(concept) + description_sentences(concept) + generic_captions(concept)


def corpus(square_motions: tuple[str, ...] | None = None) -> list[str]:
    """The text the experiment's vocabulary is learned from (source concepts only)."""
    return [t for c in source_concepts(square_motions) for t in source_captions(c)]


def descriptions(labels: tuple[str, ...], shuffle_seed: int | None = None) -> dict[str, dict[str, list[str]]]:
    """The targets' spatial / temporal descriptions (L_CC input); with shuffle_seed each class
    gets another class's descriptions (a seeded derangement): the shuffled control."""
    d = synth.descriptions(tuple(labels))
    if shuffle_seed is None:
        return d
    rng = np.random.default_rng(shuffle_seed)
    n = len(labels)
    while True:
        perm = rng.permutation(n)
        if n < 2 or not np.any(perm == np.arange(n)):
            break
    return {labels[i]: d[labels[int(perm[i])]] for i in range(n)}


def _concept(label: str) -> tuple:
    colour, shape, motion = synth._label_parts(label)
    return colour, shape, motion


def render_windows(rng: np.random.Generator, label: str, windows: int, size: int, frames: int,
                   centred: bool = False) -> np.ndarray:
    """One clip of `label` (a 2 s scene) seen through `windows` sampling windows of T frames one
    interval apart: uint8 [windows, T, size, size, 3], rendered straight into the centre crop."""
    scene = synth.make_scene(rng, *_concept(label), CLIP_SECONDS)
    out = np.empty((windows, frames, size, size, 3), dtype=np.uint8)
    for w in range(windows):
        times = synth.sample_times(CLIP_SECONDS, frames, INTERVAL_MS, None if centred else rng)
        out[w] = np.stack([synth.render(scene, float(t), size, size, synth.centre_window(), rng) for t in times])
    return out


def render_set(labels: tuple[str, ...], per_label: int, seed: int, size: int, frames: int, windows: int = 1,
               centred: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 [N, windows, T, S, S, 3], label index [N]) for per_label clips of each label; the
    same seed always gives the same clips."""
    rng = np.random.default_rng(seed)
    clips, ys = [], []
    for i, label in enumerate(labels):
        for _ in range(per_label):
            clips.append(render_windows(rng, label, windows, size, frames, centred))
            ys.append(i)
    return np.stack(clips), np.array(ys)
