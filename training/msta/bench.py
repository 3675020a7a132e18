"""bench-threads: seconds per MSTA training step (forward + backward + AdamW) with 1, 2, ...
torch threads, in this process, interleaved, min / median / max over repeats, and each count's
median as a ratio to the 1-thread median. Run it on the box as it is loaded in use."""
from __future__ import annotations

import statistics
import time

import numpy as np
import torch

from .config import AdapterConfig, backbone_preset
from .losses import classification_loss
from .model import MSTAModel


def step_seconds(model: MSTAModel, opt: torch.optim.Optimizer, frames: torch.Tensor, ids: torch.Tensor) -> float:
    start = time.perf_counter()
    text = model.encode_text(ids)
    loss = classification_loss(model.encode_video(frames), text, model.logit_scale(), torch.arange(len(frames)) % len(ids))
    opt.zero_grad()
    loss.backward()
    opt.step()
    return time.perf_counter() - start


def bench_threads(backbone: str, adapters: AdapterConfig, batch: int, threads: list[int], repeats: int,
                  log=print) -> dict[int, list[float]]:
    torch.manual_seed(0)
    model = MSTAModel(backbone_preset(backbone), adapters)
    c = model.cfg
    rng = np.random.default_rng(0)
    frames = torch.from_numpy(rng.integers(0, 256, (batch, c.frames, c.image_size, c.image_size, 3), dtype=np.uint8))
    ids = torch.zeros(4, c.context_length, dtype=torch.int64)
    ids[:, 0], ids[:, 1], ids[:, 2] = c.vocab_size - 2, torch.arange(4) + 1, c.vocab_size - 1
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=1e-3)
    times: dict[int, list[float]] = {n: [] for n in threads}
    for n in threads:  # warm-up
        torch.set_num_threads(n)
        step_seconds(model, opt, frames, ids)
    for _ in range(repeats):  # interleaved, so a change in the box's load hits every count alike
        for n in threads:
            torch.set_num_threads(n)
            times[n].append(step_seconds(model, opt, frames, ids))
    base = statistics.median(times[threads[0]])
    for n in threads:
        t = times[n]
        log(f"{n} thread(s): min {min(t):.4f} s  median {statistics.median(t):.4f} s  max {max(t):.4f} s  "
            f"median / {threads[0]}-thread median: {statistics.median(t) / base:.2f}  ({len(t)} steps)")
    return times
