"""Checkpoints: our own training checkpoints, and loading published backbone weights by their
state-dict key names (ViCLIP from InternVid, OpenAI CLIP ViT-B/16)."""
from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import torch

from .config import AdapterConfig, BackboneConfig
from .model import MSTAModel

CHECKPOINT_FORMAT = "msta-checkpoint/1"


class CheckpointError(ValueError):
    pass


def save_checkpoint(path: Path, model: MSTAModel, meta: dict[str, Any], vocab_gz: bytes,
                    train_state: dict[str, Any] | None = None) -> None:
    """meta: labels, template, frame_interval_ms, name, ... ; train_state: optimiser etc. for resume."""
    path.parent.mkdir(parents=True, exist_ok=True)
    blob = {
        "format": CHECKPOINT_FORMAT,
        "backbone_config": model.cfg.to_dict(),
        "adapter_config": model.adapters.cfg.to_dict() if model.adapters else None,
        "backbone": model.backbone.state_dict(),
        "adapters": model.adapters.state_dict() if model.adapters else None,
        "meta": meta,
        "vocab_gz": vocab_gz,
        "train_state": train_state,
    }
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save(blob, tmp)
    tmp.replace(path)  # a crash mid-write never leaves a torn checkpoint


def load_checkpoint(path: Path) -> tuple[MSTAModel, dict[str, Any]]:
    if not Path(path).is_file():
        raise CheckpointError(f"checkpoint not found: {path}")
    blob = torch.load(path, map_location="cpu")
    if not isinstance(blob, dict) or blob.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path}: not an {CHECKPOINT_FORMAT} file")
    adapter_cfg = AdapterConfig(**blob["adapter_config"]) if blob["adapter_config"] else None
    model = MSTAModel(BackboneConfig.from_dict(blob["backbone_config"]), adapter_cfg)
    load_strict(model.backbone, blob["backbone"], f"{path} (backbone)")
    if model.adapters is not None:
        load_strict(model.adapters, blob["adapters"], f"{path} (adapters)")
    return model, blob


def load_strict(module: torch.nn.Module, state: dict[str, torch.Tensor], where: str) -> None:
    """Every key present with its shape, nothing extra: errors name the keys."""
    expected = module.state_dict()
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    wrong = [f"{k}: expected {list(expected[k].shape)}, got {list(state[k].shape)}"
             for k in expected if k in state and tuple(state[k].shape) != tuple(expected[k].shape)]
    problems = []
    if missing:
        problems.append("missing keys: " + ", ".join(missing))
    if unexpected:
        problems.append("unexpected keys: " + ", ".join(unexpected))
    if wrong:
        problems.append("wrong shapes: " + "; ".join(wrong))
    if problems:
        raise CheckpointError(f"{where}: " + " | ".join(problems))
    module.load_state_dict(state)


def _strip(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Accept {'model': sd}, {'state_dict': sd} and DistributedDataParallel's 'module.' prefix."""
    for key in ("model", "state_dict"):
        if key in state and isinstance(state[key], dict):
            state = state[key]
    return {k[len("module."):] if k.startswith("module.") else k: v for k, v in state.items()}


def backbone_state_from_viclip(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """ViCLIP (InternVid): vision_encoder.*, text_encoder.*, temp (the softmax temperature,
    the inverse of the logit multiplier). Keys outside the two encoders (e.g. the unused mask
    embedding) are ignored only if they are not ours."""
    state = _strip(state)
    out: dict[str, torch.Tensor] = {}
    for k, v in state.items():
        if k.startswith("vision_encoder."):
            out["vision." + k[len("vision_encoder."):]] = v
        elif k.startswith("text_encoder."):
            out["text." + k[len("text_encoder."):]] = v
    if "temp" not in state:
        raise CheckpointError("ViCLIP state dict: missing keys: temp")
    out["logit_scale"] = torch.tensor(math.log(1.0 / float(state["temp"])))
    return out


def backbone_state_from_openai_clip(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """OpenAI CLIP: visual.* for the image tower; token_embedding, positional_embedding,
    transformer.*, ln_final, text_projection for text at the top level; logit_scale (a log);
    input_resolution / context_length / vocab_size are bookkeeping entries and skipped."""
    state = _strip(state)
    out: dict[str, torch.Tensor] = {}
    text_keys = ("token_embedding.", "positional_embedding", "transformer.", "ln_final.", "text_projection")
    for k, v in state.items():
        if k.startswith("visual."):
            out["vision." + k[len("visual."):]] = v
        elif k.startswith(text_keys):
            out["text." + k] = v
        elif k == "logit_scale":
            out["logit_scale"] = v
    return out


def load_backbone_weights(model: MSTAModel, path_or_state: Path | dict, kind: str) -> None:
    """kind: 'viclip' or 'openai-clip'."""
    state = torch.load(path_or_state, map_location="cpu") if isinstance(path_or_state, (str, Path)) else path_or_state
    if hasattr(state, "state_dict") and not isinstance(state, dict):  # a TorchScript CLIP archive
        state = state.state_dict()
    convert = {"viclip": backbone_state_from_viclip, "openai-clip": backbone_state_from_openai_clip}
    if kind not in convert:
        raise CheckpointError(f"unknown weights kind {kind!r}; known: {', '.join(convert)}")
    where = str(path_or_state) if isinstance(path_or_state, (str, Path)) else f"{kind} state dict"
    load_strict(model.backbone, convert[kind](state), where)
