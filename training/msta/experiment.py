"""Base-to-novel: adapters trained on the base labels only, evaluated on base clips among base
labels and on novel clips among novel labels (by name), with and without L_CC."""
from __future__ import annotations

import json
from pathlib import Path

from . import synth
from .config import AdapterConfig
from .data import load_clips
from .tokenizer import Tokenizer
from .train import TrainConfig, evaluate, train, with_adapters


def harmonic(a: float, b: float) -> float:
    return 2 * a * b / (a + b) if a + b else 0.0


def base_to_novel(backbone_ckpt: Path, train_data: Path, eval_data: Path, adapter_cfg: AdapterConfig,
                  cfg: TrainConfig, out: Path) -> dict:
    base, novel = list(synth.BASE_LABELS), list(synth.NOVEL_LABELS)
    out.mkdir(parents=True, exist_ok=True)
    model, vocab_gz, _ = with_adapters(backbone_ckpt, adapter_cfg)
    (out / "vocab.txt.gz").write_bytes(vocab_gz)
    tokenizer = Tokenizer(out / "vocab.txt.gz")
    size = model.cfg.image_size
    train_clips = load_clips(train_data, base, size)
    base_eval = load_clips(eval_data, base, size)
    novel_eval = load_clips(eval_data, novel, size)
    results = {}

    def measure(name: str, m) -> None:
        b, _ = evaluate(m, tokenizer, base_eval, base, cfg.frame_interval_ms)
        n, _ = evaluate(m, tokenizer, novel_eval, novel, cfg.frame_interval_ms)
        results[name] = {"base": b, "novel": n, "hm": harmonic(b, n)}
        print(f"{name:24s} base {b:.4f}  novel {n:.4f}  HM {harmonic(b, n):.4f}", flush=True)

    measure("zero-shot (no training)", model)
    for alpha in (0.0, cfg.alpha):
        model, _, _ = with_adapters(backbone_ckpt, adapter_cfg)
        run = TrainConfig(**{**cfg.__dict__, "alpha": alpha})
        train(model, tokenizer, vocab_gz, train_clips, base, synth.descriptions(tuple(base)), run,
              out / f"alpha{alpha:g}", {"name": "base2novel"})
        measure(f"MSTA alpha={alpha:g}" + (" (no L_CC)" if alpha == 0 else " (L_CC)"), model)
    (out / "results.json").write_text(json.dumps(results, indent=1) + "\n")
    return results
