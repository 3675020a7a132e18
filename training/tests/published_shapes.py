"""State-dict key names and shapes of the published backbones, written down from the reference
code (OpenAI CLIP's model.py / released archives; InternVid's viclip_vision.py and viclip_text.py),
independently of our model, so a test that loads them checks our layout against theirs."""
from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class Size:
    vision_width: int
    vision_layers: int
    patch: int
    embed_dim: int
    text_width: int
    text_layers: int
    image: int = 224
    frames: int = 8


B16 = Size(vision_width=768, vision_layers=12, patch=16, embed_dim=512, text_width=512, text_layers=12)
L14 = Size(vision_width=1024, vision_layers=24, patch=14, embed_dim=768, text_width=768, text_layers=12)
VOCAB = 49408


def resblocks(prefix: str, width: int, layers: int) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for i in range(layers):
        p = f"{prefix}transformer.resblocks.{i}."
        shapes.update({
            p + "attn.in_proj_weight": (3 * width, width), p + "attn.in_proj_bias": (3 * width,),
            p + "attn.out_proj.weight": (width, width), p + "attn.out_proj.bias": (width,),
            p + "ln_1.weight": (width,), p + "ln_1.bias": (width,),
            p + "mlp.c_fc.weight": (4 * width, width), p + "mlp.c_fc.bias": (4 * width,),
            p + "mlp.c_proj.weight": (width, 4 * width), p + "mlp.c_proj.bias": (width,),
            p + "ln_2.weight": (width,), p + "ln_2.bias": (width,),
        })
    return shapes


def openai_clip_shapes(s: Size, context: int = 77, vocab: int = VOCAB) -> dict[str, tuple[int, ...]]:
    w, grid = s.vision_width, s.image // s.patch
    shapes = {
        "visual.class_embedding": (w,), "visual.positional_embedding": (grid * grid + 1, w),
        "visual.proj": (w, s.embed_dim), "visual.conv1.weight": (w, 3, s.patch, s.patch),
        "visual.ln_pre.weight": (w,), "visual.ln_pre.bias": (w,),
        "visual.ln_post.weight": (w,), "visual.ln_post.bias": (w,),
        "positional_embedding": (context, s.text_width), "text_projection": (s.text_width, s.embed_dim),
        "logit_scale": (), "token_embedding.weight": (vocab, s.text_width),
        "ln_final.weight": (s.text_width,), "ln_final.bias": (s.text_width,),
    }
    shapes.update(resblocks("visual.", w, s.vision_layers))
    shapes.update(resblocks("", s.text_width, s.text_layers))
    return shapes


def viclip_shapes(s: Size, context: int = 32, vocab: int = VOCAB) -> dict[str, tuple[int, ...]]:
    v, t = "vision_encoder.", "text_encoder."
    w, grid = s.vision_width, s.image // s.patch
    shapes = {
        v + "class_embedding": (w,), v + "positional_embedding": (grid * grid + 1, w),
        v + "temporal_positional_embedding": (1, s.frames, w), v + "conv1.weight": (w, 3, 1, s.patch, s.patch),
        v + "ln_pre.weight": (w,), v + "ln_pre.bias": (w,),
        v + "ln_post.weight": (w,), v + "ln_post.bias": (w,), v + "proj": (w, s.embed_dim),
        t + "positional_embedding": (context, s.text_width), t + "text_projection": (s.text_width, s.embed_dim),
        t + "token_embedding.weight": (vocab, s.text_width),
        t + "ln_final.weight": (s.text_width,), t + "ln_final.bias": (s.text_width,),
        "temp": (),
    }
    shapes.update(resblocks(v, w, s.vision_layers))
    shapes.update(resblocks(t, s.text_width, s.text_layers))
    return shapes


def indexed(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """Each tensor holds its key's index everywhere, so a mix-up shows. Stride-0 views of one
    number: a full-size L/14 state dict costs bytes, not gigabytes."""
    return {k: torch.tensor(float(i)).expand(shape) for i, (k, shape) in enumerate(shapes.items())}


def realistic(shapes: dict[str, tuple[int, ...]], seed: int = 0) -> dict[str, torch.Tensor]:
    """Random weights at sensible scales (layer norms near 1), for forward passes and parity."""
    g = torch.Generator().manual_seed(seed)
    out = {}
    for k, shape in shapes.items():
        if k.endswith(("ln_1.weight", "ln_2.weight", "ln_pre.weight", "ln_post.weight", "ln_final.weight")):
            out[k] = 1 + 0.1 * torch.randn(shape, generator=g)
        elif len(shape) >= 2:
            out[k] = torch.randn(shape, generator=g) * shape[-1] ** -0.5
        else:
            out[k] = 0.02 * torch.randn(shape, generator=g)
    return out
