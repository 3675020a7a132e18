"""Backbone shapes: the two published backbones MSTA runs on, and the tiny one of the same
(ViCLIP) family that the committed test bundle uses."""
from __future__ import annotations

from dataclasses import asdict, dataclass, replace

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)


@dataclass(frozen=True)
class BackboneConfig:
    name: str
    joint_space_time: bool  # ViCLIP: one attention over all T x patches; CLIP: frame by frame
    frames: int
    image_size: int
    patch_size: int
    vision_width: int
    vision_layers: int
    vision_heads: int
    text_width: int
    text_layers: int
    text_heads: int
    context_length: int
    vocab_size: int
    embed_dim: int
    pixel_mean: tuple[float, float, float]
    pixel_std: tuple[float, float, float]
    # ViCLIP's conv1 is a Conv3d whose temporal kernel (its `kernel_size`) groups consecutive
    # frames into one token; 1 for the published model.
    tubelet: int = 1

    @property
    def token_frames(self) -> int:
        return self.frames // self.tubelet

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(d: dict) -> "BackboneConfig":
        d = dict(d)
        d["pixel_mean"] = tuple(d["pixel_mean"])
        d["pixel_std"] = tuple(d["pixel_std"])
        return BackboneConfig(**d)


@dataclass(frozen=True)
class AdapterConfig:
    dim: int
    first_layer: int  # 1-based, inclusive, counted in both branches
    last_layer: int
    scale: float = 0.005  # lambda
    temporal_kernel: int = 3
    temporal: bool = True  # False: no temporal conv (the ablation)
    gradient_scale: bool = False  # MMA's option: adapter weights get gradients as if lambda were 1

    def layers(self) -> range:
        return range(self.first_layer - 1, self.last_layer)

    def to_dict(self) -> dict:
        return asdict(self)


PRESETS: dict[str, BackboneConfig] = {
    "viclip-b16": BackboneConfig(
        name="viclip-b16", joint_space_time=True, frames=8, image_size=224, patch_size=16,
        vision_width=768, vision_layers=12, vision_heads=12,
        text_width=512, text_layers=12, text_heads=8, context_length=32, vocab_size=49408,
        embed_dim=512, pixel_mean=IMAGENET_MEAN, pixel_std=IMAGENET_STD,
    ),
    "clip-vit-b16": BackboneConfig(
        name="clip-vit-b16", joint_space_time=False, frames=8, image_size=224, patch_size=16,
        vision_width=768, vision_layers=12, vision_heads=12,
        text_width=512, text_layers=12, text_heads=8, context_length=77, vocab_size=49408,
        embed_dim=512, pixel_mean=CLIP_MEAN, pixel_std=CLIP_STD,
    ),
    # InternVid's ViClip-InternVid-10M-FLT.pth (clip_joint_l14 + clip_text_l14, context 32).
    "viclip-l14": BackboneConfig(
        name="viclip-l14", joint_space_time=True, frames=8, image_size=224, patch_size=14,
        vision_width=1024, vision_layers=24, vision_heads=16,
        text_width=768, text_layers=12, text_heads=12, context_length=32, vocab_size=49408,
        embed_dim=768, pixel_mean=IMAGENET_MEAN, pixel_std=IMAGENET_STD,
    ),
    # OpenAI CLIP ViT-L/14 (heads = width / 64 in both towers).
    "clip-vit-l14": BackboneConfig(
        name="clip-vit-l14", joint_space_time=False, frames=8, image_size=224, patch_size=14,
        vision_width=1024, vision_layers=24, vision_heads=16,
        text_width=768, text_layers=12, text_heads=12, context_length=77, vocab_size=49408,
        embed_dim=768, pixel_mean=CLIP_MEAN, pixel_std=CLIP_STD,
    ),
    # The test bundle's backbone: ViCLIP's design at toy size (vocab_size is set from the
    # vocabulary learned from the synthetic captions).
    "viclip-tiny": BackboneConfig(
        name="viclip-tiny", joint_space_time=True, frames=8, image_size=64, patch_size=16,
        vision_width=64, vision_layers=3, vision_heads=4,
        text_width=64, text_layers=3, text_heads=4, context_length=16, vocab_size=49408,
        embed_dim=64, pixel_mean=IMAGENET_MEAN, pixel_std=IMAGENET_STD, tubelet=4,
    ),
}


def backbone_preset(name: str, **overrides) -> BackboneConfig:
    if name not in PRESETS:
        raise ValueError(f"unknown backbone {name!r}; known: {', '.join(PRESETS)}")
    return replace(PRESETS[name], **overrides)


def parse_layers(spec: str) -> tuple[int, int]:
    """'8-12' -> (8, 12); '5' -> (5, 5)."""
    try:
        first, _, last = spec.partition("-")
        a, b = int(first), int(last or first)
    except ValueError:
        raise ValueError(f"adapter layers {spec!r}: expected A-B, e.g. 8-12") from None
    if not 1 <= a <= b:
        raise ValueError(f"adapter layers {spec!r}: need 1 <= A <= B")
    return a, b


def sampling_spec(mode: str, frames: int, interval_ms: float | None, clip_ms: float | None) -> dict:
    """How the daemon takes a clip's frames, as bundle.json states it: {"mode": "interval",
    "interval_ms"} (one frame every interval) or {"mode": "uniform", "clip_ms"} (T frames spread
    uniformly over a clip of clip_ms, ViCLIP's way: one per clip_ms / T segment)."""
    if mode == "interval":
        if not interval_ms or interval_ms <= 0:
            raise ValueError("interval sampling needs --frame-interval-ms > 0")
        return {"mode": "interval", "interval_ms": float(interval_ms)}
    if mode == "uniform":
        if not clip_ms or clip_ms <= 0:
            raise ValueError("uniform sampling needs --clip-ms > 0")
        return {"mode": "uniform", "clip_ms": float(clip_ms)}
    raise ValueError(f"sampling {mode!r}: expected interval or uniform")


def step_ms(sampling: dict, frames: int) -> float:
    """The time between two sampled frames."""
    return sampling["interval_ms"] if sampling["mode"] == "interval" else sampling["clip_ms"] / frames


@dataclass(frozen=True)
class TrainingDefaults:
    """The command line's defaults for a backbone (every one can be overridden)."""
    adapter_dim: int
    adapter_layers: str
    epochs: int
    batch: int
    sampling: str
    frame_interval_ms: float | None
    clip_ms: float | None
    color_jitter: float  # probability per clip
    grayscale: float
    val_every: int  # epochs between validations (0: none); the best epoch's model is kept


# The published backbones: the MSTA authors' few-shot settings (logs/MSTA/few-shot/*: ADAPTER_DIM
# 128, layers 8-12, 50 epochs, batch 4, COLOR_JITTER 0.8, GRAY_SCALE 0.2, a test every 5 epochs
# keeping best.pth) and ViCLIP's uniform
# sampling; the clip duration (4 s: a frame every 500 ms) is ours, for a live camera.
AUTHORS = TrainingDefaults(128, "8-12", 50, 4, "uniform", None, 4000.0, 0.8, 0.2, 5)
# The tiny test backbone (`train`'s defaults; make-bundle sets its own epochs, lr, lambda and
# warm-up in cli.py). Colour is what tells its labels apart, so no colour augmentation.
TINY = TrainingDefaults(32, "2-3", 20, 16, "interval", 160.0, None, 0.0, 0.0, 0)


def training_defaults(backbone: str) -> TrainingDefaults:
    return TINY if backbone == "viclip-tiny" else AUTHORS
