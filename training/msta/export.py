"""Export a trained checkpoint to an msta-bundle/1 directory (the daemon's contract, see DESIGN.md):
bundle.json, video.onnx, text.onnx, the tokenizer vocabulary, and reference/ (inputs and PyTorch
outputs) for the daemon's parity test."""
from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from torch import nn

from . import synth, video
from .checkpoint import load_checkpoint
from .model import MSTAModel
from .tokenizer import Tokenizer

BUNDLE_FORMAT = "msta-bundle/1"
VOCAB_FILE = "bpe_vocab.txt.gz"
INT8_VIDEO = "video.int8.onnx"
OPSET = 14
# reference/ texts of a bundle that names no labels
REFERENCE_LABELS = ("red ball moving left", "blue ball growing", synth.IDLE)


class _Video(nn.Module):
    def __init__(self, model: MSTAModel):
        super().__init__()
        self.model = model

    def forward(self, frames: torch.Tensor) -> torch.Tensor:
        return self.model.encode_video(frames)


class _Text(nn.Module):
    def __init__(self, model: MSTAModel):
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        return self.model.encode_text(input_ids)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def export_onnx(model: MSTAModel, out: Path) -> None:
    c = model.cfg
    model.eval()
    frames = torch.zeros(2, c.frames, c.image_size, c.image_size, 3, dtype=torch.uint8)
    ids = torch.zeros(2, c.context_length, dtype=torch.int64)
    ids[:, 0], ids[:, 1] = c.vocab_size - 2, c.vocab_size - 1
    with torch.no_grad():
        torch.onnx.export(_Video(model), (frames,), str(out / "video.onnx"), input_names=["frames"],
                          output_names=["video_embeds"], dynamic_axes={"frames": {0: "batch"}, "video_embeds": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
        torch.onnx.export(_Text(model), (ids,), str(out / "text.onnx"), input_names=["input_ids"],
                          output_names=["text_embeds"], dynamic_axes={"input_ids": {0: "batch"}, "text_embeds": {0: "batch"}},
                          opset_version=OPSET, do_constant_folding=True)
    _pin_shapes(out / "video.onnx", ["batch", c.frames, c.image_size, c.image_size, 3], ["batch", c.embed_dim])
    _pin_shapes(out / "text.onnx", ["batch", c.context_length], ["batch", c.embed_dim])


def _pin_shapes(path: Path, input_shape: list, output_shape: list) -> None:
    """Write the contract's shapes on the graph's input and output (the exporter's shape
    inference leaves the embedding width symbolic after the L2 normalisation), then check."""
    model = onnx.load(str(path))
    for value, shape in ((model.graph.input[0], input_shape), (model.graph.output[0], output_shape)):
        dims = value.type.tensor_type.shape.dim
        for dim, size in zip(dims, shape):
            if isinstance(size, str):
                dim.dim_param = size
            else:
                dim.dim_value = size
    onnx.checker.check_model(model, full_check=True)
    onnx.save(model, str(path))


def _write_array(ref: Path, name: str, array: np.ndarray, index: dict[str, Any]) -> None:
    file = f"{name}.bin"
    array = np.ascontiguousarray(array)
    (ref / file).write_bytes(array.astype(array.dtype.newbyteorder("<")).tobytes())
    index[name] = {"file": file, "dtype": str(array.dtype), "shape": list(array.shape)}


def write_reference(model: MSTAModel, tokenizer: Tokenizer, out: Path, frames: np.ndarray, texts: list[str]) -> None:
    ref = out / "reference"
    ref.mkdir(exist_ok=True)
    ids = torch.tensor(tokenizer.tokenize(texts, model.cfg.context_length), dtype=torch.int64)
    with torch.no_grad():
        video = model.encode_video(torch.from_numpy(frames))
        text = model.encode_text(ids)
        scores = (model.logit_scale() * video @ text.T).softmax(dim=-1)
    index: dict[str, Any] = {"texts": texts}
    _write_array(ref, "frames", frames.astype(np.uint8), index)
    _write_array(ref, "video_embeds", video.numpy().astype(np.float32), index)
    _write_array(ref, "input_ids", ids.numpy().astype(np.int64), index)
    _write_array(ref, "text_embeds", text.numpy().astype(np.float32), index)
    _write_array(ref, "scores", scores.numpy().astype(np.float32), index)
    (ref / "reference.json").write_text(json.dumps(index, indent=1) + "\n")


def reference_frames(size: int, frames: int, interval_ms: float) -> np.ndarray:
    """A few real clips through the whole path: rendered, H.264-encoded, decoded, sampled."""
    picks = ("red ball moving left", "blue ball moving right", "red ball growing", synth.IDLE)
    with tempfile.TemporaryDirectory() as tmp:
        entries = synth.write_dataset(Path(tmp), seed=99, per_class=1, seconds=2.0, labels=picks)
        out = []
        for e in entries:
            decoded, fps = video.decode(Path(tmp) / e["file"], size)
            out.append(video.sample(decoded, fps, synth.sample_times(len(decoded) / fps, frames, interval_ms, None)))
    return np.stack(out)


def export_bundle(checkpoint: Path, out: Path, sample_frames: np.ndarray, int8: bool = False) -> dict[str, Any]:
    """A trained checkpoint's bundle. sample_frames: uint8 [B, T, H, W, 3], a few real decoded
    clips for reference/. int8: also write video.int8.onnx (quantize.py), named in bundle.json
    under variants.int8."""
    model, blob = load_checkpoint(checkpoint)
    meta = blob["meta"]
    if not meta.get("labels"):
        raise ValueError(f"{checkpoint}: the checkpoint names no labels")
    return write_bundle(model, blob["vocab_gz"], meta, out, sample_frames, str(checkpoint), int8=int8)


def write_bundle(model: MSTAModel, vocab_gz: bytes, meta: dict[str, Any], out: Path, sample_frames: np.ndarray,
                 where: str, int8: bool = False) -> dict[str, Any]:
    """meta: name, template, frame_interval_ms, labels (may be empty: the daemon's label files
    name the actions). A model without adapters is a zero-shot bundle: bundle.json says
    "adapters": null and the graphs are the bare backbone's."""
    labels = list(meta.get("labels") or [])
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    (out / VOCAB_FILE).write_bytes(vocab_gz)
    tokenizer = Tokenizer(out / VOCAB_FILE)
    if tokenizer.vocab_size != model.cfg.vocab_size:
        raise ValueError(f"{where}: vocabulary has {tokenizer.vocab_size} tokens, the model {model.cfg.vocab_size}")
    model.eval()
    export_onnx(model, out)
    graphs = ["video.onnx", "text.onnx"]
    if int8:
        from .quantize import quantize_file
        quantize_file(out / "video.onnx", out / INT8_VIDEO)
        graphs.append(INT8_VIDEO)
    c = model.cfg
    bundle = {
        "format": BUNDLE_FORMAT,
        "name": meta.get("name", "msta"),
        "backbone": c.name,
        "adapters": model.adapters.cfg.to_dict() if model.adapters is not None else None,
        "frames": c.frames,
        "height": c.image_size,
        "width": c.image_size,
        "embed_dim": c.embed_dim,
        "logit_scale": model.logit_scale(),
        "context_length": c.context_length,
        "template": meta["template"],
        "tokenizer": {"type": "clip-bpe", "vocab": VOCAB_FILE},
        "pixel": {"mean": list(c.pixel_mean), "std": list(c.pixel_std)},
        "frame_interval_ms": meta["frame_interval_ms"],
        "sampling": meta.get("sampling") or {"mode": "interval", "interval_ms": meta["frame_interval_ms"]},
        "labels": labels,
        "files": {name: sha256(out / name) for name in (*graphs, VOCAB_FILE)},
    }
    if int8:
        bundle["variants"] = {"int8": {"video": INT8_VIDEO}}
    (out / "bundle.json").write_text(json.dumps(bundle, indent=1) + "\n")
    texts = [meta["template"].format(label) for label in (labels or REFERENCE_LABELS)]
    write_reference(model, tokenizer, out, sample_frames, texts)
    return bundle
