"""A bundle's model back in PyTorch from its ONNX graphs alone: teach from the bundle a box already
runs, with no training checkpoint or published weights file at hand.

The exporter (torch.onnx, constant folding on) keeps most parameters as initializers under their
module names ("model.backbone.vision.ln_pre.weight"; equal ones once, the others named by Identity
nodes); it stores every Linear weight transposed
under a generated name ("onnx::MatMul_759"), so each is found through the bias-add that follows
its MatMul, and each adapter's temporal convolution weight through its Conv's bias. In the joint space-time vision tower it folds `class_embedding + positional_embedding[0]`
into one vector and `positional_embedding[1:]` into another: they come back as class_embedding =
the folded sum and positional_embedding[0] = 0, the same function. Attention heads are in no
shape: they are read from the constant the attention reshapes by; the adapters' lambda from
bundle.json's `adapters` or, in bundles written before it said it, from the graph's constant. The result is checked
against the bundle's reference/ embeddings (PyTorch's, written at export) before it is used."""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import torch
from onnx import numpy_helper

from .checkpoint import CheckpointError, load_strict
from .config import AdapterConfig, BackboneConfig, backbone_preset
from .export import BUNDLE_FORMAT, sha256
from .model import MSTAModel
from .tokenizer import Tokenizer

PARITY = 1e-4  # max abs difference from reference/ (the bundle parity tests' bound)
_PREFIX = "model."


class BundleError(ValueError):
    pass


def read_manifest(bundle: Path) -> dict[str, Any]:
    """bundle.json, with every listed file's sha256 verified."""
    path = bundle / "bundle.json"
    if not path.is_file():
        raise BundleError(f"{bundle}: no bundle.json (not an {BUNDLE_FORMAT} directory)")
    try:
        manifest = json.loads(path.read_text())
    except json.JSONDecodeError as e:
        raise BundleError(f"{path}: not JSON ({e})") from None
    if manifest.get("format") != BUNDLE_FORMAT:
        raise BundleError(f"{path}: format {manifest.get('format')!r}, expected {BUNDLE_FORMAT!r}")
    for name, expected in manifest.get("files", {}).items():
        file = bundle / name
        if not file.is_file():
            raise BundleError(f"{file}: listed in bundle.json but missing")
        if sha256(file) != expected:
            raise BundleError(f"{file}: sha256 expected {expected} (bundle.json), found {sha256(file)}")
    for name in ("video.onnx", "text.onnx", manifest["tokenizer"]["vocab"]):
        if name not in manifest.get("files", {}):
            raise BundleError(f"{path}: files does not list {name}")
    return manifest


def _constants(graph: onnx.GraphProto) -> dict[str, np.ndarray]:
    out = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    for n in graph.node:
        if n.op_type == "Constant" and n.attribute and n.attribute[0].name == "value":
            out[n.output[0]] = numpy_helper.to_array(n.attribute[0].t)
    return out


def graph_parameters(graph: onnx.GraphProto, where: str) -> dict[str, np.ndarray]:
    """Our state-dict names (MSTAModel's, without "model.") -> arrays; the folded positional
    embeddings under "vision.folded_class" / "vision.folded_patch_positions"."""
    inits = {i.name: numpy_helper.to_array(i) for i in graph.initializer}
    params = {k[len(_PREFIX):]: v for k, v in inits.items() if k.startswith(_PREFIX)}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    unnamed = {k for k in inits if not k.startswith(_PREFIX)}
    for n in graph.node:
        if n.op_type == "Identity" and n.input[0] in inits and n.output[0].startswith(_PREFIX):
            # the exporter keeps one of several equal parameters (untrained LayerNorms: all ones)
            # and names the others by Identity nodes
            params[n.output[0][len(_PREFIX):]] = inits[n.input[0]]
        elif n.op_type == "MatMul" and n.input[1] in unnamed:
            bias = next((i for c in consumers.get(n.output[0], []) if c.op_type == "Add"
                         for i in c.input if i.startswith(_PREFIX) and i.endswith("bias")), None)
            if bias is None:
                raise BundleError(f"{where}: weight {n.input[1]} (MatMul {n.output[0]}) has no bias-add to name it")
            name = bias[len(_PREFIX):]
            name = name[: -len("in_proj_bias")] + "in_proj_weight" if name.endswith("in_proj_bias") else name[: -len("bias")] + "weight"
            params[name] = inits[n.input[1]].T.copy()
            unnamed.discard(n.input[1])
        elif n.op_type == "Conv" and n.input[1] in unnamed and len(n.input) > 2 and n.input[2].startswith(_PREFIX):
            # the adapters' temporal Conv1d, run as a 1 x k Conv2d: its weight with a unit axis added
            params[n.input[2][len(_PREFIX):-len("bias")] + "weight"] = inits[n.input[1]].squeeze(2)
            unnamed.discard(n.input[1])
        elif n.op_type == "Expand" and n.input[0] in unnamed and inits[n.input[0]].ndim == 1:
            params["backbone.vision.folded_class"] = inits[n.input[0]]
            unnamed.discard(n.input[0])
        elif n.op_type == "Add" and any(i in unnamed and inits[i].ndim == 2 for i in n.input):
            i = next(i for i in n.input if i in unnamed)
            params["backbone.vision.folded_patch_positions"] = inits[i]
            unnamed.discard(i)
    if unnamed:
        raise BundleError(f"{where}: initializers not traced to a parameter: {', '.join(sorted(unnamed))}")
    return params


def _heads(graph: onnx.GraphProto, branch: str, where: str) -> int:
    """The attention's head count: the constant the first reshape into heads is built from."""
    consts = _constants(graph)
    scope = f"/{branch}/transformer/resblocks.0/attn/Concat"
    for n in graph.node:
        if n.op_type == "Concat" and n.output[0].startswith(scope):
            found = [int(consts[i].reshape(-1)[0]) for i in n.input if i in consts and consts[i].size == 1]
            if len(found) == 1:
                return found[0]
    raise BundleError(f"{where}: cannot read the {branch} tower's attention heads from the graph")


def _adapter_scale(graph: onnx.GraphProto, layer: int, where: str) -> float:
    """lambda: the scalar the text adapter's output of `layer` (0-based) is multiplied by."""
    consts = _constants(graph)
    scope = f"/text/transformer/resblocks.{layer}/Mul"
    for n in graph.node:
        if n.op_type == "Mul" and n.output[0].startswith(scope):
            found = [float(consts[i].reshape(-1)[0]) for i in n.input if i in consts and consts[i].size == 1]
            if found:
                return float(f"{found[0]:.7g}")  # the float32 constant of a decimal lambda
    raise BundleError(f"{where}: cannot read the adapters' lambda; bundle.json's adapters would say it")


def _backbone_config(manifest: dict, params: dict, video: onnx.GraphProto, text: onnx.GraphProto,
                     vocab_size: int, where: str) -> BackboneConfig:
    conv = params["backbone.vision.conv1.weight"]
    joint = conv.ndim == 5

    def layers(branch: str) -> int:
        found = {int(m.group(1)) for k in params if (m := re.match(rf"backbone\.{branch}\.transformer\.resblocks\.(\d+)\.", k))}
        return max(found) + 1
    try:
        base = backbone_preset(manifest["backbone"])
    except ValueError:
        base = backbone_preset("viclip-tiny" if joint else "clip-vit-b16")  # only the fields below survive
    return BackboneConfig(
        name=manifest["backbone"], joint_space_time=joint, frames=manifest["frames"], image_size=manifest["height"],
        patch_size=int(conv.shape[-1]), vision_width=int(conv.shape[0]), vision_layers=layers("vision"),
        vision_heads=_heads(video, "vision", where), text_width=int(params["backbone.text.token_embedding.weight"].shape[1]),
        text_layers=layers("text"), text_heads=_heads(text, "text", where), context_length=manifest["context_length"],
        vocab_size=vocab_size, embed_dim=manifest["embed_dim"],
        pixel_mean=tuple(manifest.get("pixel", {}).get("mean", base.pixel_mean)),
        pixel_std=tuple(manifest.get("pixel", {}).get("std", base.pixel_std)),
        tubelet=int(conv.shape[2]) if joint else 1,
    )


def _adapter_config(manifest: dict, params: dict, text: onnx.GraphProto, where: str) -> AdapterConfig | None:
    if "adapters" in manifest:
        return AdapterConfig(**manifest["adapters"]) if manifest["adapters"] else None
    layers = sorted({int(m.group(1)) for k in params if (m := re.match(r"adapters\.shared\.(\d+)\.", k))})
    if not layers:
        return None
    first = layers[0]
    temporal = f"adapters.vision.{first}.temporal.weight" in params
    return AdapterConfig(dim=int(params[f"adapters.shared.{first}.bias"].shape[0]), first_layer=first + 1,
                         last_layer=layers[-1] + 1, scale=_adapter_scale(text, first, where),
                         temporal_kernel=int(params[f"adapters.vision.{first}.temporal.weight"].shape[-1]) if temporal else 3,
                         temporal=temporal)


def _backbone_state(params: dict, manifest: dict, cfg: BackboneConfig) -> dict[str, torch.Tensor]:
    state = {k[len("backbone."):]: torch.from_numpy(np.array(v)) for k, v in params.items() if k.startswith("backbone.")}
    folded = [state.pop(k, None) for k in ("vision.folded_class", "vision.folded_patch_positions")]
    if folded[0] is not None and folded[1] is not None and "vision.positional_embedding" not in state:
        state["vision.class_embedding"] = folded[0]
        state["vision.positional_embedding"] = torch.cat([torch.zeros(1, cfg.vision_width), folded[1]])
    state["logit_scale"] = torch.tensor(math.log(float(manifest["logit_scale"])))
    return state


def check_reference(model: MSTAModel, bundle: Path) -> float:
    """Max abs difference between the model's embeddings and the bundle's reference/ ones; raises
    past PARITY. 0.0 checks nothing when the bundle has no reference/."""
    ref = bundle / "reference"
    if not (ref / "reference.json").is_file():
        return 0.0
    index = json.loads((ref / "reference.json").read_text())

    def array(name: str) -> np.ndarray:
        e = index[name]
        return np.frombuffer((ref / e["file"]).read_bytes(), dtype=np.dtype(e["dtype"]).newbyteorder("<")).reshape(e["shape"])
    with torch.no_grad():
        video = model.encode_video(torch.from_numpy(array("frames").astype(np.uint8)))
        text = model.encode_text(torch.from_numpy(array("input_ids").astype(np.int64)))
    worst = max(float(np.abs(video.numpy() - array("video_embeds")).max()), float(np.abs(text.numpy() - array("text_embeds")).max()))
    if worst > PARITY:
        raise BundleError(f"{bundle}: the model read from its graphs is {worst:.2e} from reference/ (bound {PARITY:g})")
    return worst


def load_bundle(bundle: Path) -> tuple[MSTAModel, bytes, dict[str, Any]]:
    """(the bundle's model with its adapters, if any, the vocabulary's bytes, meta for a new
    bundle: name, template, frame_interval_ms, sampling, labels)."""
    bundle = Path(bundle)
    manifest = read_manifest(bundle)
    vocab = bundle / manifest["tokenizer"]["vocab"]
    graphs = {name: onnx.load(str(bundle / name)) for name in ("video.onnx", "text.onnx")}
    params: dict[str, np.ndarray] = {}
    for name, g in graphs.items():
        params.update(graph_parameters(g.graph, str(bundle / name)))
    where = str(bundle)
    cfg = _backbone_config(manifest, params, graphs["video.onnx"].graph, graphs["text.onnx"].graph, Tokenizer(vocab).vocab_size, where)
    model = MSTAModel(cfg, _adapter_config(manifest, params, graphs["text.onnx"].graph, where))
    try:
        load_strict(model.backbone, _backbone_state(params, manifest, cfg), f"{where} (backbone)")
        if model.adapters is not None:
            adapters = {k[len("adapters."):]: torch.from_numpy(np.array(v)) for k, v in params.items() if k.startswith("adapters.")}
            load_strict(model.adapters, adapters, f"{where} (adapters)")
    except CheckpointError as e:
        raise BundleError(str(e)) from None
    model.freeze_backbone()
    model.eval()
    check_reference(model, bundle)
    interval = manifest.get("frame_interval_ms", 160.0)
    meta = {"name": manifest["name"], "template": manifest["template"], "frame_interval_ms": interval,
            "sampling": manifest.get("sampling") or {"mode": "interval", "interval_ms": interval},
            "labels": list(manifest.get("labels") or []), "bundle": where}
    return model, vocab.read_bytes(), meta


def backbone_from_bundle(bundle: Path, adapter_cfg: AdapterConfig, seed: int = 0) -> tuple[MSTAModel, bytes, dict[str, Any]]:
    """The bundle's frozen backbone with fresh adapters on top (train --init-bundle), initialised from `seed`."""
    source, vocab_gz, meta = load_bundle(bundle)
    torch.manual_seed(seed)
    model = MSTAModel(source.cfg, adapter_cfg)
    model.backbone.load_state_dict(source.backbone.state_dict())
    model.freeze_backbone()
    return model, vocab_gz, meta
