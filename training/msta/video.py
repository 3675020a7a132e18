"""Decoding as the daemon does it: scale so the shorter side equals the model size (aspect kept),
centre-crop to size x size, RGB; then sample one frame every frame_interval_ms (the latest frame
at each instant)."""
from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np


def probe(path: Path) -> tuple[float, int, int]:
    """(fps, width, height) of the first video stream."""
    cmd = ["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
           "stream=avg_frame_rate,width,height", "-of", "json", str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffprobe could not read {path}: {proc.stderr.strip()}")
    streams = json.loads(proc.stdout).get("streams") or []
    if not streams:
        raise RuntimeError(f"{path}: no video stream")
    num, _, den = streams[0]["avg_frame_rate"].partition("/")
    return float(num) / float(den or 1), int(streams[0]["width"]), int(streams[0]["height"])


def scaled_size(w: int, h: int, size: int) -> tuple[int, int]:
    """(width, height) with the shorter side = size, rounded as ffmpeg's scale=-1 does."""
    if w >= h:
        return (size * w + h // 2) // h, size
    return size, (size * h + w // 2) // w


def decode(path: Path, size: int, crop: bool = True) -> tuple[np.ndarray, float]:
    """All frames, scaled (shorter side = size) and centre-cropped: uint8 [N, size, size, 3], fps.
    crop=False keeps the whole scaled frame [N, H', W', 3] (for multi-crop testing)."""
    fps, w, h = probe(path)
    sw, sh = scaled_size(w, h, size)
    vf = f"scale={sw}:{sh}:flags=bilinear" + (f",crop={size}:{size}" if crop else "")
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-vf", vf, "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {proc.stderr.decode(errors='replace').strip()}")
    frames = np.frombuffer(proc.stdout, dtype=np.uint8)
    if frames.size == 0:
        raise RuntimeError(f"{path}: no frames decoded")
    return frames.reshape(-1, size, size, 3) if crop else frames.reshape(-1, sh, sw, 3), fps


def crops(frames: np.ndarray, size: int, n: int) -> list[np.ndarray]:
    """n square crops of [.., H, W, 3] along its longer side: 1 = centre; 3 = start, centre, end."""
    h, w = frames.shape[-3:-1]
    long = max(h, w)
    if n == 1:
        starts = [(long - size) // 2]
    else:
        starts = [round(i * (long - size) / (n - 1)) for i in range(n)]
    if w >= h:
        return [frames[..., :size, s:s + size, :] for s in starts]
    return [frames[..., s:s + size, :size, :] for s in starts]


def sample(frames: np.ndarray, fps: float, times: np.ndarray) -> np.ndarray:
    """The latest frame at each instant (seconds from the start)."""
    idx = np.clip(np.floor(times * fps + 1e-6).astype(int), 0, len(frames) - 1)
    return frames[idx]
