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


def decode(path: Path, size: int) -> tuple[np.ndarray, float]:
    """All frames, scaled (shorter side = size) and centre-cropped: uint8 [N, size, size, 3], fps."""
    fps, w, h = probe(path)
    scale = f"scale=-1:{size}" if w >= h else f"scale={size}:-1"
    cmd = ["ffmpeg", "-v", "error", "-i", str(path), "-vf", f"{scale}:flags=bilinear,crop={size}:{size}",
           "-f", "rawvideo", "-pix_fmt", "rgb24", "-"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(f"ffmpeg could not decode {path}: {proc.stderr.decode(errors='replace').strip()}")
    frames = np.frombuffer(proc.stdout, dtype=np.uint8)
    if frames.size == 0:
        raise RuntimeError(f"{path}: no frames decoded")
    return frames.reshape(-1, size, size, 3), fps


def sample(frames: np.ndarray, fps: float, times: np.ndarray) -> np.ndarray:
    """The latest frame at each instant (seconds from the start)."""
    idx = np.clip(np.floor(times * fps + 1e-6).astype(int), 0, len(frames) - 1)
    return frames[idx]
