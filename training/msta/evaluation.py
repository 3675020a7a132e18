"""Evaluation of a model on labelled clips, the paper's way: every clip seen as n_clips temporal
windows x n_crops spatial crops, class probabilities averaged over the views; top-1, top-5, per
class accuracy and the most frequent confusions. The model is a PyTorch one (a checkpoint or a
bare backbone) or an exported bundle run in onnxruntime-node, the graphs the daemon runs."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np
import torch

from . import video
from .data import Clip
from .onnx_bridge import run_graph_batches
from .tokenizer import Tokenizer

# frames uint8 [B, T, S, S, 3] -> L2-normalised [B, D]; ids int64 [N, L] -> [N, D]
Encoder = Callable[[np.ndarray], np.ndarray]


@dataclass
class Encoders:
    video: Encoder
    text: Encoder
    frames: int
    size: int
    context_length: int
    logit_scale: float
    template: str
    tokenizer: Tokenizer


def torch_encoders(model, tokenizer: Tokenizer, template: str) -> Encoders:
    model.eval()

    def vid(frames: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model.encode_video(torch.from_numpy(np.ascontiguousarray(frames))).numpy()

    def txt(ids: np.ndarray) -> np.ndarray:
        with torch.no_grad():
            return model.encode_text(torch.from_numpy(ids)).numpy()
    c = model.cfg
    return Encoders(vid, txt, c.frames, c.image_size, c.context_length, model.logit_scale(), template, tokenizer)


def bundle_encoders(bundle: Path, batch: int = 16) -> tuple[Encoders, dict]:
    """The bundle's graphs in onnxruntime-node; (encoders, bundle.json)."""
    meta = json.loads((bundle / "bundle.json").read_text())

    def vid(frames: np.ndarray) -> np.ndarray:
        parts = [np.ascontiguousarray(frames[i:i + batch]) for i in range(0, len(frames), batch)]
        return np.concatenate(run_graph_batches(bundle / "video.onnx", "frames", parts, "video_embeds"))

    def txt(ids: np.ndarray) -> np.ndarray:
        return run_graph_batches(bundle / "text.onnx", "input_ids", [ids], "text_embeds")[0]
    tok = Tokenizer(bundle / meta["tokenizer"]["vocab"])
    enc = Encoders(vid, txt, meta["frames"], meta["height"], meta["context_length"], meta["logit_scale"],
                   meta["template"], tok)
    return enc, meta


def window_starts(seconds: float, frames: int, interval_ms: float, n_clips: int) -> np.ndarray:
    """n_clips start times spread evenly over the clip's slack (1: the centred window)."""
    span = (frames - 1) * interval_ms / 1000
    slack = max(seconds - span - 1e-3, 0.0)
    return slack * (np.arange(n_clips) + 0.5) / n_clips


def views(clip: Clip, frames: int, size: int, interval_ms: float, n_clips: int, n_crops: int) -> np.ndarray:
    """uint8 [n_clips * n_crops, T, S, S, 3]; clip.frames are scaled (shorter side S), not cropped."""
    out = []
    for start in window_starts(clip.seconds, frames, interval_ms, n_clips):
        picked = video.sample(clip.frames, clip.fps, start + np.arange(frames) * interval_ms / 1000)
        out += video.crops(picked, size, n_crops)
    return np.stack(out)


@dataclass
class Report:
    labels: list[str]
    top1: float
    top5: float
    k: int  # top-k actually measured: min(5, labels)
    confusion: np.ndarray  # [true, predicted] counts of the top-1
    views: int

    def per_class(self) -> list[tuple[str, int, int]]:
        return [(c, int(self.confusion[i, i]), int(self.confusion[i].sum())) for i, c in enumerate(self.labels)]

    def confusions(self, n: int = 10) -> list[tuple[str, str, int]]:
        """Most frequent (true, predicted) mistakes, largest first."""
        pairs = [(self.labels[t], self.labels[p], int(self.confusion[t, p]))
                 for t, p in zip(*np.nonzero(self.confusion)) if t != p]
        return sorted(pairs, key=lambda x: (-x[2], x[0], x[1]))[:n]

    def to_dict(self) -> dict:
        return {"top1": self.top1, f"top{self.k}": self.top5, "views": self.views, "clips": int(self.confusion.sum()),
                "per_class": {c: {"correct": ok, "clips": n} for c, ok, n in self.per_class()},
                "confusions": [{"true": t, "predicted": p, "clips": n} for t, p, n in self.confusions(len(self.labels) ** 2)]}


def _probabilities(enc: Encoders, text: np.ndarray, clips: list[Clip], interval_ms: float, n_clips: int,
                   n_crops: int) -> np.ndarray:
    n_views = n_clips * n_crops
    frames = np.concatenate([views(c, enc.frames, enc.size, interval_ms, n_clips, n_crops) for c in clips])
    emb = enc.video(frames).reshape(len(clips), n_views, -1)
    logits = enc.logit_scale * emb @ text.T
    probs = np.exp(logits - logits.max(-1, keepdims=True))
    return (probs / probs.sum(-1, keepdims=True)).mean(1)  # [clips, labels]


def evaluate_clips(enc: Encoders, clips: Iterable[Clip], labels: list[str], interval_ms: float,
                   n_clips: int = 1, n_crops: int = 1, chunk: int = 32) -> Report:
    """Softmax(logit_scale * cos) over the labels' prompts, averaged over the views of each clip.
    clips may be a lazy iterable (decoded as they come, `chunk` at a time)."""
    ids = np.array(enc.tokenizer.tokenize([enc.template.format(c) for c in labels], enc.context_length), dtype=np.int64)
    text = enc.text(ids)
    index = {c: i for i, c in enumerate(labels)}
    probs, truth, part = [], [], []

    def flush() -> None:
        probs.append(_probabilities(enc, text, part, interval_ms, n_clips, n_crops))
        part.clear()
    for clip in clips:
        if clip.label not in index:
            raise ValueError(f"evaluation: {clip.file}: label {clip.label!r} is not in the label set")
        truth.append(index[clip.label])
        part.append(clip)
        if len(part) == chunk:
            flush()
    if part:
        flush()
    if not truth:
        raise ValueError("evaluation: no clips")
    p, y = np.concatenate(probs), np.array(truth)
    k = min(5, len(labels))
    topk = np.argsort(-p, axis=1, kind="stable")[:, :k]
    confusion = np.zeros((len(labels), len(labels)), dtype=int)
    for t, top in zip(y, topk[:, 0]):
        confusion[t, top] += 1
    return Report(labels, float(np.mean(topk[:, 0] == y)), float(np.mean((topk == y[:, None]).any(1))), k,
                  confusion, n_clips * n_crops)


def decoded(index: list[tuple[Path, str]], size: int) -> Iterator[Clip]:
    """Clips decoded one by one, scaled (shorter side = size), uncropped."""
    for path, label in index:
        frames, fps = video.decode(path, size, crop=False)
        yield Clip(path, label, frames, fps)


def print_report(r: Report, log: Callable[[str], None] = print) -> None:
    width = max(len(c) for c in r.labels)
    for c, ok, n in r.per_class():
        log(f"{c:{width}s} {ok}/{n}" + (f" ({ok / n:.3f})" if n else ""))
    for t, p, n in r.confusions():
        log(f"confused: {t} -> {p}: {n}")
    clips = int(r.confusion.sum())
    log(f"top-1: {r.top1:.4f}  top-{r.k}: {r.top5:.4f} on {clips} clips, {r.views} view(s) each")
