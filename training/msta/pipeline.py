"""make-bundle: the test bundle from nothing, in one command (the paper-table's held-out backbone
-> synth clips -> MSTA training with L_CC -> held-out evaluation against the bare backbone on a new
seed -> the daemon's view of it (daemon_check) -> export).

The backbone is the one `paper-table` uses (paper/backbone.py): pretrained on a corpus without
the bundle's labels' compositions, so its zero-shot top-1 on them is low and the adapters have
something to learn; MSTA must beat it on held-out clips, or make-bundle fails."""
from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import daemon_check, synth
from .config import AdapterConfig, parse_layers
from .data import load_clips
from .description_check import description_misses
from .export import export_bundle, reference_frames
from .paper import backbone as paper_backbone
from .train import TrainConfig, evaluate, train, with_adapters

TRAIN_SEED, EVAL_SEED = 1, 2
# The daemon's view (daemon_check): 3 s files and a demo video per seed, none of them trained on;
# seed 7 renders the committed demo video (models/demo/), which several daemon tests play.
DAEMON_SEEDS = (7, 11, 12, 13)
CLIP_SECONDS = 2.0
# Training sets (clip seconds, empty stretch cut in before or after each action, seconds), equal
# shares of --per-class. Two lengths (the same motion over 2 s or 3 s: two speeds), so clips from
# a camera or a longer file (the daemon tests' 3 s clips, the demo's 2.4 s actions) look like
# something the adapters saw; the pretraining clips are 1.2-2 s. Cuts (synth.write_dataset): the
# moment something comes into view or leaves, which must read as the action, not as a blink. The
# 0.8 s cut gives windows where the ball shows in only the last (or first) few frames: without it
# those read as "blinking" at demo cuts (daemon_check; README "The daemon's view of a bundle").
TRAIN_SETS = ((2.0, 0.0), (3.0, 0.0), (2.0, 0.3), (2.0, 0.8))


class BundleQualityError(RuntimeError):
    pass


def _synth_half(args: tuple[Path, int, int, float, tuple[str, ...], float]) -> list[dict]:
    out, seed, per_class, seconds, labels, cut_s = args
    return synth.write_dataset(out, seed, per_class, seconds, labels, cut_s)


def synth_parallel(out: Path, seed: int, per_class: int, seconds: float = CLIP_SECONDS, cut_s: float = 0.0) -> None:
    """Two processes (one per core), each rendering half of the labels; one labels.json."""
    halves = (synth.LABELS[::2], synth.LABELS[1::2])
    with ProcessPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(_synth_half, [(out / f"part{i}", seed, per_class, seconds, h, cut_s)
                                            for i, h in enumerate(halves)]))
    entries = [{"file": f"part{i}/{e['file']}", "label": e["label"]} for i, part in enumerate(parts) for e in part]
    (out / "labels.json").write_text(json.dumps(entries, indent=1) + "\n")


def make_bundle(out: Path, work: Path, args) -> dict:
    """Writes the bundle to `out`; returns the measured top-1s."""
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    def stage(name: str) -> None:
        print(f"[{time.time() - t0:6.0f} s] {name}", flush=True)

    stage("the held-out backbone (paper-table's; pretrained once, then cached)")
    ckpt = paper_backbone.build(work / "backbone", args.pretrain_steps)
    _, tokenizer, _ = paper_backbone.load(ckpt)
    first, last = parse_layers(args.adapter_layers)
    model, vocab_gz, _ = with_adapters(ckpt, AdapterConfig(args.adapter_dim, first, last, args.adapter_scale), args.seed)
    labels = list(synth.LABELS)
    descriptions = synth.descriptions()
    frozen = description_misses(model, tokenizer, labels, descriptions, adapted=False)
    print(f"description means nearest another class's frozen prompt: {len(frozen)} of {2 * len(labels)}"
          + "".join(f"\n  {line}" for line in frozen))
    stage("synthetic clips")
    sets = [(f"train-{s:g}s-cut{c:g}s", s, c) for s, c in TRAIN_SETS]
    for i, (name, seconds, cut_s) in enumerate(sets):
        synth_parallel(work / name, TRAIN_SEED + 2 * i, args.per_class // len(sets), seconds, cut_s)
    synth_parallel(work / "eval", EVAL_SEED, args.eval_per_class)
    (work / "descriptions.json").write_text(json.dumps(descriptions, indent=1) + "\n")
    stage("MSTA adapters")
    clips = [c for name, _, _ in sets for c in load_clips(work / name, labels, model.cfg.image_size)]
    held = load_clips(work / "eval", labels, model.cfg.image_size)
    tcfg = TrainConfig(epochs=args.epochs, batch=args.batch, lr=args.lr, weight_decay=args.weight_decay,
                       warmup_epochs=args.warmup_epochs, alpha=args.alpha, frame_interval_ms=args.frame_interval_ms,
                       seed=args.seed)
    bare, _ = evaluate(model, tokenizer, held, labels, tcfg.frame_interval_ms, adapted=False)
    print(f"bare backbone (no adapters), held-out top-1 (seed {EVAL_SEED}, {len(held)} clips): {bare:.4f}")
    train(model, tokenizer, vocab_gz, clips, labels, descriptions, tcfg, work / "msta", {"name": "synthetic-actions"})
    top1, _ = evaluate(model, tokenizer, held, labels, tcfg.frame_interval_ms)
    print(f"MSTA, held-out top-1 (same {len(held)} clips): {top1:.4f}")
    if top1 <= bare:
        raise BundleQualityError(f"the adapters do not beat the bare backbone ({top1:.4f} vs {bare:.4f})")
    misses = description_misses(model, tokenizer, labels, descriptions)
    for line in misses:
        print(f"description check: {line}")
    if misses:
        raise BundleQualityError(f"{len(misses)} description means are nearest another class's prompt (above)")
    stage(f"the daemon's view: files and demo videos of seeds {', '.join(map(str, DAEMON_SEEDS))}")
    checks = [daemon_check.check(model, tokenizer, labels, s, work / "daemon-check", tcfg.frame_interval_ms)
              for s in DAEMON_SEEDS]
    print(daemon_check.summary(checks))
    for line in (m for c in checks for m in c.misses + c.spurious + c.unstarted + c.restarts):
        print(f"  {line}")
    failed = daemon_check.failures(checks)
    if failed:
        raise BundleQualityError(f"the daemon tests would fail: {'; '.join(failed)}")
    stage("export")
    export_bundle(work / "msta" / "checkpoint.pt", out, reference_frames(model.cfg.image_size, model.cfg.frames,
                                                                         tcfg.frame_interval_ms))
    stage(f"done: {out}")
    return {"bare": bare, "msta": top1, "held_out_clips": len(held), "frozen_description_misses": len(frozen),
            "daemon": json.loads(daemon_check.summary(checks))}
