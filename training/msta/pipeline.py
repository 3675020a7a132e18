"""make-bundle: the test bundle from nothing, in one command (vocab -> pretrain -> synth clips
-> MSTA training with L_CC -> held-out evaluation on a new seed -> export)."""
from __future__ import annotations

import json
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from . import synth
from .config import AdapterConfig, backbone_preset, parse_layers
from .data import load_clips
from .export import export_bundle, reference_frames
from .pretrain import pretrain
from .tokenizer import Tokenizer, learn_merges, write_merges
from .train import TrainConfig, evaluate, train, with_adapters

TRAIN_SEED, EVAL_SEED = 1, 2
CLIP_SECONDS = 2.0


def _synth_half(args: tuple[Path, int, int, tuple[str, ...]]) -> list[dict]:
    out, seed, per_class, labels = args
    return synth.write_dataset(out, seed, per_class, CLIP_SECONDS, labels)


def synth_parallel(out: Path, seed: int, per_class: int) -> None:
    """Two processes (one per core), each rendering half of the labels; one labels.json."""
    halves = (synth.LABELS[::2], synth.LABELS[1::2])
    with ProcessPoolExecutor(max_workers=2) as pool:
        parts = list(pool.map(_synth_half, [(out / f"part{i}", seed, per_class, h) for i, h in enumerate(halves)]))
    entries = [{"file": f"part{i}/{e['file']}", "label": e["label"]} for i, part in enumerate(parts) for e in part]
    (out / "labels.json").write_text(json.dumps(entries, indent=1) + "\n")


def make_bundle(out: Path, work: Path, args) -> None:
    work.mkdir(parents=True, exist_ok=True)
    t0 = time.time()

    def stage(name: str) -> None:
        print(f"[{time.time() - t0:6.0f} s] {name}", flush=True)

    stage("vocabulary")
    vocab = work / "vocab.txt.gz"
    write_merges(vocab, learn_merges(synth.corpus(), 2000))
    tokenizer = Tokenizer(vocab)
    stage("pretraining the tiny backbone")
    cfg = backbone_preset("viclip-tiny", vocab_size=tokenizer.vocab_size)
    pretrain(cfg, vocab, work / "backbone.pt", args.pretrain_steps, 32, 3e-3, args.seed, args.frame_interval_ms)
    stage("synthetic clips")
    synth_parallel(work / "train", TRAIN_SEED, args.per_class)
    synth_parallel(work / "eval", EVAL_SEED, args.eval_per_class)
    (work / "descriptions.json").write_text(json.dumps(synth.descriptions(), indent=1) + "\n")
    stage("MSTA adapters")
    first, last = parse_layers(args.adapter_layers)
    model, vocab_gz, _ = with_adapters(work / "backbone.pt", AdapterConfig(args.adapter_dim, first, last, args.adapter_scale))
    labels = list(synth.LABELS)
    clips = load_clips(work / "train", labels, cfg.image_size)
    held = load_clips(work / "eval", labels, cfg.image_size)
    tcfg = TrainConfig(epochs=args.epochs, batch=args.batch, lr=args.lr, weight_decay=args.weight_decay,
                       warmup_epochs=args.warmup_epochs, alpha=args.alpha, frame_interval_ms=args.frame_interval_ms,
                       seed=args.seed)
    zero_shot, _ = evaluate(model, tokenizer, held, labels, tcfg.frame_interval_ms)
    print(f"zero-shot top-1 of the frozen backbone (adapters at init): {zero_shot:.4f}")
    train(model, tokenizer, vocab_gz, clips, labels, synth.descriptions(), tcfg, work / "msta", {"name": "synthetic-actions"})
    top1, _ = evaluate(model, tokenizer, held, labels, tcfg.frame_interval_ms)
    print(f"held-out top-1 (seed {EVAL_SEED}, {len(held)} clips): {top1:.4f}")
    stage("export")
    export_bundle(work / "msta" / "checkpoint.pt", out, reference_frames(cfg.image_size, cfg.frames, tcfg.frame_interval_ms))
    stage(f"done: {out}")
