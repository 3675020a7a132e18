"""The frozen video-language backbone, with parameter names laid out like ViCLIP's and OpenAI
CLIP's state dicts (see checkpoint.py) so published weights map one to one.

Tensors are batch-first. Each block accepts an optional adapter that runs in parallel with the
block on the block's normalised input (ln_1(x)); its output is added to the block's output."""
from __future__ import annotations

from collections import OrderedDict
from typing import Callable, Optional

import torch
import torch.nn.functional as F
from torch import nn

from .config import BackboneConfig

# adapter(normalised block input) -> residual to add
Adapter = Callable[[torch.Tensor], torch.Tensor]


class QuickGELU(nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class Attention(nn.Module):
    """nn.MultiheadAttention's parameter names (in_proj_weight, in_proj_bias, out_proj), written
    out so the ONNX export never meets a fused kernel."""

    def __init__(self, width: int, heads: int):
        super().__init__()
        if width % heads:
            raise ValueError(f"width {width} is not divisible by {heads} heads")
        self.heads = heads
        self.in_proj_weight = nn.Parameter(torch.empty(3 * width, width))
        self.in_proj_bias = nn.Parameter(torch.zeros(3 * width))
        self.out_proj = nn.Linear(width, width)
        nn.init.xavier_uniform_(self.in_proj_weight)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        b, n, w = x.shape
        q, k, v = F.linear(x, self.in_proj_weight, self.in_proj_bias).chunk(3, dim=-1)
        head_dim = w // self.heads

        def split(t: torch.Tensor) -> torch.Tensor:
            return t.reshape(b, n, self.heads, head_dim).transpose(1, 2)

        # scaled on Q (n x w values), not on the n x n scores: at ViCLIP-B's 1,569 tokens a Mul
        # over the scores took 5% of the int8 graph's time
        scores = split(q * head_dim**-0.5) @ split(k).transpose(-1, -2)
        if mask is not None:
            scores = scores + mask
        out = scores.softmax(dim=-1) @ split(v)
        return self.out_proj(out.transpose(1, 2).reshape(b, n, w))


class ResidualBlock(nn.Module):
    def __init__(self, width: int, heads: int):
        super().__init__()
        self.ln_1 = nn.LayerNorm(width)
        self.attn = Attention(width, heads)
        self.ln_2 = nn.LayerNorm(width)
        self.mlp = nn.Sequential(OrderedDict(
            c_fc=nn.Linear(width, 4 * width), gelu=QuickGELU(), c_proj=nn.Linear(4 * width, width)
        ))

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None,
                adapter: Optional[Adapter] = None) -> torch.Tensor:
        h = self.ln_1(x)
        y = x + self.attn(h, mask)
        y = y + self.mlp(self.ln_2(y))
        return y if adapter is None else y + adapter(h)


class Transformer(nn.Module):
    def __init__(self, width: int, layers: int, heads: int):
        super().__init__()
        self.resblocks = nn.ModuleList(ResidualBlock(width, heads) for _ in range(layers))

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None,
                adapters: Optional[dict[int, Adapter]] = None) -> torch.Tensor:
        for i, block in enumerate(self.resblocks):
            x = block(x, mask, adapters.get(i) if adapters else None)
        return x


class VisionTransformer(nn.Module):
    """ViCLIP (joint space-time): one class token + T x N patch tokens, a temporal positional
    embedding per frame. CLIP (per frame): each frame encoded alone, embeddings mean-pooled.

    Token layout (joint): [cls, frame0 patches, frame1 patches, ...]; per frame: batch of B*T."""

    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        w, p = cfg.vision_width, cfg.patch_size
        if cfg.image_size % p:
            raise ValueError(f"image size {cfg.image_size} is not a multiple of patch {p}")
        self.cfg = cfg
        self.grid = cfg.image_size // p
        if cfg.frames % cfg.tubelet or (cfg.tubelet > 1 and not cfg.joint_space_time):
            raise ValueError(f"tubelet {cfg.tubelet} needs joint space-time attention and to divide {cfg.frames} frames")
        if cfg.joint_space_time:
            k = cfg.tubelet
            self.conv1 = nn.Conv3d(3, w, (k, p, p), (k, p, p), bias=False)
            self.temporal_positional_embedding = nn.Parameter(torch.zeros(1, cfg.token_frames, w))
        else:
            self.conv1 = nn.Conv2d(3, w, p, p, bias=False)
        scale = w**-0.5
        self.class_embedding = nn.Parameter(scale * torch.randn(w))
        self.positional_embedding = nn.Parameter(scale * torch.randn(self.grid**2 + 1, w))
        self.ln_pre = nn.LayerNorm(w)
        self.transformer = Transformer(w, cfg.vision_layers, cfg.vision_heads)
        self.ln_post = nn.LayerNorm(w)
        self.proj = nn.Parameter(scale * torch.randn(w, cfg.embed_dim))

    def forward(self, x: torch.Tensor, adapters: Optional[dict[int, Adapter]] = None) -> torch.Tensor:
        """x: normalised float [B, T, 3, H, W] -> unnormalised embeddings [B, D]."""
        b = x.shape[0]
        t = x.shape[1] // self.cfg.tubelet
        n = self.grid**2
        pos = self.positional_embedding
        if self.cfg.joint_space_time:
            patches = self.conv1(x.transpose(1, 2))  # [B, W, T / tubelet, g, g]
            patches = patches.flatten(3).permute(0, 2, 3, 1)  # [B, t, N, W]
            patches = patches + pos[1:] + self.temporal_positional_embedding[:, :t].unsqueeze(2)
            cls = (self.class_embedding + pos[0]).expand(b, 1, -1)
            tokens = torch.cat([cls, patches.reshape(b, t * n, -1)], dim=1)
        else:
            patches = self.conv1(x.flatten(0, 1)).flatten(2).transpose(1, 2)  # [B*T, N, W]
            cls = self.class_embedding.expand(b * t, 1, -1)
            tokens = torch.cat([cls, patches], dim=1) + pos
        tokens = self.transformer(self.ln_pre(tokens), adapters=adapters)
        emb = self.ln_post(tokens[:, 0]) @ self.proj
        return emb if self.cfg.joint_space_time else emb.reshape(b, t, -1).mean(dim=1)


class TextTransformer(nn.Module):
    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        w = cfg.text_width
        self.token_embedding = nn.Embedding(cfg.vocab_size, w)
        self.positional_embedding = nn.Parameter(0.01 * torch.randn(cfg.context_length, w))
        self.transformer = Transformer(w, cfg.text_layers, cfg.text_heads)
        self.ln_final = nn.LayerNorm(w)
        self.text_projection = nn.Parameter(w**-0.5 * torch.randn(w, cfg.embed_dim))
        nn.init.normal_(self.token_embedding.weight, std=0.02)
        causal = torch.full((cfg.context_length, cfg.context_length), float("-inf")).triu(1)
        self.register_buffer("causal_mask", causal, persistent=False)

    def forward(self, ids: torch.Tensor, adapters: Optional[dict[int, Adapter]] = None) -> torch.Tensor:
        """ids: int64 [N, L] -> unnormalised embeddings [N, D], read at the end-of-text token,
        found as the argmax of the ids (CLIP: it is the vocabulary's highest id)."""
        x = self.token_embedding(ids) + self.positional_embedding
        x = self.ln_final(self.transformer(x, self.causal_mask, adapters))
        eot = x[torch.arange(x.shape[0]), ids.argmax(dim=-1)]
        return eot @ self.text_projection


class Backbone(nn.Module):
    def __init__(self, cfg: BackboneConfig):
        super().__init__()
        self.cfg = cfg
        self.vision = VisionTransformer(cfg)
        self.text = TextTransformer(cfg)
        # log of the logit multiplier, as in CLIP; ViCLIP stores its inverse ("temp").
        self.logit_scale = nn.Parameter(torch.tensor(float(torch.log(torch.tensor(1 / 0.07)))))
        mean = torch.tensor(cfg.pixel_mean).view(1, 1, 3, 1, 1)
        std = torch.tensor(cfg.pixel_std).view(1, 1, 3, 1, 1)
        self.register_buffer("pixel_mean", mean, persistent=False)
        self.register_buffer("pixel_std", std, persistent=False)

    def normalise_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """uint8 [B, T, H, W, 3] RGB -> float [B, T, 3, H, W] normalised."""
        c = self.cfg
        if frames.dim() != 5 or tuple(frames.shape[1:]) != (c.frames, c.image_size, c.image_size, 3):
            raise ValueError(
                f"frames: expected [B, {c.frames}, {c.image_size}, {c.image_size}, 3], got {list(frames.shape)}"
            )
        x = frames.permute(0, 1, 4, 2, 3).float() / 255.0
        return (x - self.pixel_mean) / self.pixel_std
