"""Labelled clip folders (labels.json: [{"file", "label"}]), label lists and description files."""
from __future__ import annotations

import csv
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import video


@dataclass
class Clip:
    file: Path
    label: str
    frames: np.ndarray  # uint8 [N, S, S, 3], already scaled and centre-cropped
    fps: float

    @property
    def seconds(self) -> float:
        return len(self.frames) / self.fps


def _csv_labels(path: Path, text: str) -> list[str]:
    """ViFi-CLIP / MSTA class lists (labels/*_labels.csv): header id,name; ids 0..N-1."""
    rows = list(csv.reader(text.splitlines()))[1:]
    by_id: dict[int, str] = {}
    for n, row in enumerate(rows, start=2):
        if not row:
            continue
        if len(row) != 2 or not row[0].strip().isdigit():
            raise ValueError(f"{path}:{n}: expected id,name")
        by_id[int(row[0])] = row[1].strip()
    if sorted(by_id) != list(range(len(by_id))):
        raise ValueError(f"{path}: class ids must be 0..{len(by_id) - 1}, each once")
    return [by_id[i] for i in range(len(by_id))]


def read_labels(path: Path) -> list[str]:
    """One label per line (blank lines and # comments skipped), a JSON list, or a class list CSV
    with the header id,name (the authors' labels/*.csv, in id order)."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"labels file not found: {path}")
    text = Path(path).read_text(encoding="utf-8")
    if text.lstrip().startswith("["):
        labels = [str(x).strip() for x in json.loads(text)]
    elif text.lstrip().lower().startswith("id,name"):
        labels = _csv_labels(path, text.lstrip())
    else:
        labels = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    if not labels:
        raise ValueError(f"{path}: the label set is empty")
    dupes = sorted({label for label in labels if labels.count(label) > 1})
    if dupes:
        raise ValueError(f"{path}: duplicate labels: {', '.join(dupes)}")
    return labels


def read_descriptions(path: Path, labels: list[str]) -> dict[str, dict[str, list[str]]]:
    if not Path(path).is_file():
        raise FileNotFoundError(f"descriptions file not found: {path}")
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    missing = [label for label in labels if label not in data]
    if missing:
        raise ValueError(f"{path}: no descriptions for: {', '.join(missing)}")
    for label in labels:
        for kind in ("spatial", "temporal"):
            items = data[label].get(kind) if isinstance(data[label], dict) else None
            if not items or not all(isinstance(s, str) and s.strip() for s in items):
                raise ValueError(f"{path}: {label!r}.{kind} must be a non-empty list of strings")
    return {label: data[label] for label in labels}


def read_index(data_dir: Path, labels: list[str]) -> list[tuple[Path, str]]:
    index_file = Path(data_dir) / "labels.json"
    if not index_file.is_file():
        raise FileNotFoundError(f"{data_dir}: no labels.json (expected [{{\"file\", \"label\"}}])")
    entries = json.loads(index_file.read_text(encoding="utf-8"))
    wanted = set(labels)
    out = []
    for i, e in enumerate(entries):
        if not isinstance(e, dict) or "file" not in e or "label" not in e:
            raise ValueError(f"{index_file}: entry {i} needs \"file\" and \"label\"")
        if e["label"] in wanted:
            out.append((Path(data_dir) / e["file"], e["label"]))
    if not out:
        raise ValueError(f"{index_file}: no clips for any of the {len(labels)} labels")
    return out


def load_clips(data_dir: Path, labels: list[str], size: int, desc: str = "decode") -> list[Clip]:
    """Decode every clip of the wanted labels (two ffmpeg processes at a time)."""
    index = read_index(data_dir, labels)

    def one(item: tuple[Path, str]) -> Clip:
        frames, fps = video.decode(item[0], size)
        return Clip(item[0], item[1], frames, fps)

    with ThreadPoolExecutor(max_workers=2) as pool:
        return list(tqdm(pool.map(one, index), total=len(index), desc=desc, leave=False))
