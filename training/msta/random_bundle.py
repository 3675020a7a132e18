"""A full-size bundle with random weights, for benchmarks: a published backbone's shapes (ViCLIP-B/16
by default) with a state dict generated under the published checkpoint's key names, loaded
through the same key mapping as real weights, then the project's own export.

python3 -m msta.random_bundle --out DIR [--int8]: makes DIR on demand and reuses it while its
bundle.json names this recipe and every file's hash still holds (never committed: ~600 MB)."""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import torch

from .checkpoint import load_backbone_weights, save_checkpoint
from .config import AdapterConfig, BackboneConfig, backbone_preset, parse_layers
from .data import read_labels
from .export import export_bundle, reference_frames, sha256
from .model import MSTAModel

DEFAULT_VOCAB = Path(__file__).resolve().parents[2].parent / "shared/clip/bpe_simple_vocab_16e6.txt.gz"
DEFAULT_LABELS = Path(__file__).resolve().parents[2].parent / "shared/labels/hmdb51.txt"
TEMPLATE = "a video of {}."


def random_viclip_state(cfg: BackboneConfig, seed: int) -> dict[str, torch.Tensor]:
    """A freshly initialised backbone's tensors, renamed to ViCLIP's (InternVid) checkpoint keys:
    vision_encoder.*, text_encoder.*, and temp (the inverse of the logit multiplier)."""
    from .backbones import Backbone
    torch.manual_seed(seed)
    state = Backbone(cfg).state_dict()
    out = {}
    for k, v in state.items():
        if k.startswith("vision."):
            out["vision_encoder." + k[len("vision."):]] = v
        elif k.startswith("text."):
            out["text_encoder." + k[len("text."):]] = v
    out["temp"] = torch.tensor(0.01)
    return out


def recipe(args: argparse.Namespace) -> dict:
    return {"backbone": args.backbone, "seed": args.seed, "adapter_dim": args.adapter_dim,
            "adapter_layers": args.adapter_layers, "labels": str(args.labels), "int8": args.int8,
            "frame_interval_ms": args.frame_interval_ms}


def cached(out: Path, want: dict) -> bool:
    """True when out holds a bundle made by this recipe whose files all match their hashes."""
    try:
        bundle = json.loads((out / "bundle.json").read_text())
        made = json.loads((out / "recipe.json").read_text())
    except (OSError, ValueError):
        return False
    files = dict(bundle.get("files", {}))
    for variant in (bundle.get("variants") or {}).values():
        files.update(variant.get("files", {}))
    return made == want and all((out / f).is_file() and sha256(out / f) == h for f, h in files.items())


def make_random_bundle(args: argparse.Namespace) -> Path:
    out = Path(args.out)
    want = recipe(args)
    if cached(out, want):
        print(f"random-bundle: {out} is up to date")
        return out
    start = time.time()
    cfg = backbone_preset(args.backbone)
    first, last = parse_layers(args.adapter_layers)
    model = MSTAModel(cfg, AdapterConfig(dim=args.adapter_dim, first_layer=first, last_layer=last))
    if not cfg.joint_space_time:
        raise ValueError(f"--backbone {args.backbone}: only ViCLIP-family (joint space-time) backbones")
    load_backbone_weights(model, random_viclip_state(cfg, args.seed), "viclip")
    meta = {"labels": read_labels(Path(args.labels)), "template": TEMPLATE,
            "frame_interval_ms": args.frame_interval_ms, "name": f"{args.backbone}-random"}
    vocab = Path(args.vocab)
    if not vocab.is_file():
        raise FileNotFoundError(f"CLIP vocabulary not found: {vocab} (--vocab)")
    with tempfile.TemporaryDirectory() as tmp:
        ckpt = Path(tmp) / "checkpoint.pt"
        save_checkpoint(ckpt, model, meta, vocab.read_bytes())
        del model
        ref = reference_frames(cfg.image_size, cfg.frames, args.frame_interval_ms)[:2]
        export_bundle(ckpt, out, ref, int8=args.int8)
    (out / "recipe.json").write_text(json.dumps(want, indent=1) + "\n")
    size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
    print(f"random-bundle: wrote {out} ({size / 1e6:.0f} MB) in {time.time() - start:.0f} s")
    return out


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python3 -m msta.random_bundle", description=__doc__)
    ap.add_argument("--out", required=True)
    ap.add_argument("--backbone", default="viclip-b16")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--adapter-dim", type=int, default=64)
    ap.add_argument("--adapter-layers", default="8-12")
    ap.add_argument("--labels", default=str(DEFAULT_LABELS), help="label list (one per line)")
    ap.add_argument("--vocab", default=str(DEFAULT_VOCAB), help="the CLIP BPE vocabulary")
    ap.add_argument("--frame-interval-ms", type=float, default=160.0)
    ap.add_argument("--int8", action="store_true", help="also write the int8 variant (see quantize.py)")
    return ap


def main(argv: list[str] | None = None) -> int:
    torch.set_num_threads(1)
    args = parser().parse_args(argv)
    try:
        make_random_bundle(args)
    except (ValueError, FileNotFoundError) as e:
        print(f"random-bundle: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
