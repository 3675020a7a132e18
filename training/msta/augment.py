"""Training augmentation as in the MSTA authors' runs (AUG.COLOR_JITTER 0.8, AUG.GRAY_SCALE 0.2,
ViFi-CLIP's group transforms): with probability p_jitter a colour jitter (brightness 0.4, contrast
0.4, saturation 0.2, hue 0.1, in a random order), then with probability p_gray a grey scale; one
draw per clip, the same for all its frames. No flips: they would swap left and right."""
from __future__ import annotations

import numpy as np

BRIGHTNESS, CONTRAST, SATURATION, HUE = 0.4, 0.4, 0.2, 0.1
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _grey(x: np.ndarray) -> np.ndarray:
    return (x @ LUMA)[..., None]


def _hue(x: np.ndarray, shift: float) -> np.ndarray:
    """Rotate the hue by shift turns (a rotation of the chroma plane in YIQ)."""
    yiq = np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]], dtype=np.float32)
    a = 2 * np.pi * shift
    rot = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]], dtype=np.float32)
    m = np.linalg.inv(yiq) @ rot @ yiq
    return x @ m.T.astype(np.float32)


def augment(frames: np.ndarray, rng: np.random.Generator, p_jitter: float, p_gray: float) -> np.ndarray:
    """uint8 [T, H, W, 3] -> uint8 [T, H, W, 3]."""
    x = frames.astype(np.float32) / 255
    if rng.uniform() < p_jitter:
        b = rng.uniform(1 - BRIGHTNESS, 1 + BRIGHTNESS)
        c = rng.uniform(1 - CONTRAST, 1 + CONTRAST)
        s = rng.uniform(1 - SATURATION, 1 + SATURATION)
        h = rng.uniform(-HUE, HUE)
        ops = {
            "brightness": lambda v: v * b,
            "contrast": lambda v: (v - _grey(v).mean()) * c + _grey(v).mean(),
            "saturation": lambda v: (v - _grey(v)) * s + _grey(v),
            "hue": lambda v: _hue(v, h),
        }
        for name in rng.permutation(list(ops)):
            x = np.clip(ops[name](x), 0, 1)
    if rng.uniform() < p_gray:
        x = np.repeat(_grey(x), 3, axis=-1)
    return np.clip(np.rint(x * 255), 0, 255).astype(np.uint8)
