"""The committed test bundle: its contract, and held-out top-1 >= 95% on clips from a NEW seed
(rendered by synth, H.264-encoded, decoded and scaled like the daemon does), run in
onnxruntime-node, the daemon's runtime."""
import json

import numpy as np
import pytest

from conftest import REPO
from msta import synth, video
from msta.tokenizer import Tokenizer
from onnx_runtime import need_ort, run_graph

BUNDLE = REPO / "models" / "synthetic-actions"
NEW_SEED = 20261127  # neither the training (1) nor the evaluation (2) seed of make-bundle


@pytest.fixture(scope="module")
def meta():
    return json.loads((BUNDLE / "bundle.json").read_text())


def test_bundle_is_small_and_complete(meta):
    size = sum(p.stat().st_size for p in BUNDLE.rglob("*") if p.is_file())
    assert size < 5_000_000
    assert meta["labels"] == list(synth.LABELS)
    assert meta["frame_interval_ms"] > 0 and meta["logit_scale"] > 1
    for name in meta["files"]:
        assert (BUNDLE / name).is_file()


@need_ort
def test_held_out_top1_on_a_new_seed(meta, tmp_path):
    per_class = 3
    entries = synth.write_dataset(tmp_path, NEW_SEED, per_class, 2.0)
    size, frames, interval = meta["height"], meta["frames"], meta["frame_interval_ms"]
    clips = []
    for e in entries:
        decoded, fps = video.decode(tmp_path / e["file"], size)
        clips.append(video.sample(decoded, fps, synth.sample_times(len(decoded) / fps, frames, interval, None)))
    tok = Tokenizer(BUNDLE / meta["tokenizer"]["vocab"])
    ids = np.array(tok.tokenize([meta["template"].format(label) for label in meta["labels"]], meta["context_length"]),
                   dtype=np.int64)
    text = run_graph(BUNDLE / "text.onnx", "input_ids", ids, "text_embeds")
    vid = run_graph(BUNDLE / "video.onnx", "frames", np.stack(clips), "video_embeds")
    predicted = [meta["labels"][i] for i in (vid @ text.T).argmax(1)]
    truth = [e["label"] for e in entries]
    top1 = np.mean([p == t for p, t in zip(predicted, truth)])
    wrong = [(t, p) for p, t in zip(predicted, truth) if p != t]
    print(f"held-out top-1 of the committed bundle: {top1:.4f} on {len(truth)} clips (seed {NEW_SEED}); wrong: {wrong}")
    assert top1 >= 0.95, f"top-1 {top1:.3f} on {len(truth)} clips; wrong: {wrong}"
