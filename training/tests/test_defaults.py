"""Per-backbone defaults (the MSTA authors' settings for the published backbones, the committed
bundle's for viclip-tiny), frame sampling as bundle.json states it, the authors' augmentation,
and the torch thread count."""
import numpy as np
import pytest

from msta.augment import augment
from msta.cli import _resolve_defaults, main, parser
from msta.config import sampling_spec, step_ms


def resolved(*extra, backbone="viclip-b16", frames=None):
    args = parser().parse_args(["train", "--data", "d", "--labels", "l", "--out", "o", *extra])
    _resolve_defaults(args, backbone, frames)
    return args


def test_published_backbones_default_to_the_authors_settings():
    for backbone in ("viclip-b16", "clip-vit-b16", "viclip-l14", "clip-vit-l14"):
        a = resolved(backbone=backbone)
        assert (a.adapter_dim, a.adapter_layers, a.epochs, a.batch) == (128, "8-12", 50, 4)
        assert (a.color_jitter, a.grayscale, a.val_every) == (0.8, 0.2, 5)
        assert a.sampling_spec == {"mode": "uniform", "clip_ms": 4000.0} and a.frame_interval_ms == 500.0
    a = resolved("--epochs", "7", "--clip-ms", "2400", "--grayscale", "0")
    assert (a.epochs, a.frame_interval_ms, a.grayscale) == (7, 300.0, 0.0)


def test_the_tiny_backbone_keeps_the_committed_bundles_settings():
    a = resolved(backbone="viclip-tiny", frames=8)
    assert (a.adapter_dim, a.adapter_layers, a.epochs, a.batch, a.color_jitter, a.grayscale, a.val_every) == (32, "2-3", 20, 16, 0, 0, 0)
    assert a.sampling_spec == {"mode": "interval", "interval_ms": 160.0} and a.frame_interval_ms == 160.0


def test_sampling_specs():
    assert step_ms(sampling_spec("uniform", 8, None, 2000), 8) == 250
    assert step_ms(sampling_spec("interval", 8, 125, None), 8) == 125
    with pytest.raises(ValueError, match="uniform sampling needs --clip-ms"):
        sampling_spec("uniform", 8, 100, None)
    with pytest.raises(ValueError, match="interval sampling needs --frame-interval-ms"):
        sampling_spec("interval", 8, 0, None)


def test_augmentation_is_one_draw_per_clip():
    rng = np.random.default_rng(0)
    frame = rng.integers(0, 256, (1, 6, 6, 3), dtype=np.uint8)
    clip = np.repeat(frame, 4, axis=0)
    assert np.array_equal(augment(clip, np.random.default_rng(1), 0.0, 0.0), clip)
    grey = augment(clip, np.random.default_rng(1), 0.0, 1.0)
    assert np.array_equal(grey[..., 0], grey[..., 1]) and np.array_equal(grey[..., 1], grey[..., 2])
    jittered = augment(clip, np.random.default_rng(2), 1.0, 0.0)
    assert jittered.dtype == np.uint8 and jittered.shape == clip.shape
    assert not np.array_equal(jittered, clip)
    assert all(np.array_equal(jittered[0], f) for f in jittered[1:])  # the same transform on every frame
    # over many clips, about p of them are jittered / greyed
    r = np.random.default_rng(3)
    outs = [augment(clip[:1], r, 0.8, 0.2) for _ in range(400)]
    greyed = np.mean([np.array_equal(o[..., 0], o[..., 2]) for o in outs])
    changed = np.mean([not np.array_equal(o, clip[:1]) for o in outs])
    assert 0.13 < greyed < 0.27 and 0.75 < changed < 0.92


def test_threads_are_checked(capsys, monkeypatch):
    assert main(["--threads", "0", "params", "--backbone", "viclip-tiny", "--adapter-dim", "8", "--adapter-layers", "1-2"]) == 2
    assert "--threads 0: must be a whole number of at least 1" in capsys.readouterr().err
    monkeypatch.setenv("MSTA_THREADS", "many")
    assert main(["params", "--backbone", "viclip-tiny", "--adapter-dim", "8", "--adapter-layers", "1-2"]) == 2
    assert "MSTA_THREADS many" in capsys.readouterr().err
    monkeypatch.setenv("MSTA_THREADS", "1")
    assert main(["params", "--backbone", "viclip-tiny", "--adapter-dim", "8", "--adapter-layers", "1-2"]) == 0
