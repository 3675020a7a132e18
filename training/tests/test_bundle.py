"""The committed test bundle: its contract; held-out top-1 >= 95% on clips from a NEW seed
(rendered by synth, H.264-encoded, decoded and scaled like the daemon does), run in
onnxruntime-node, the daemon's runtime; descriptions that tell its classes apart; adapters that
beat the bare backbone they were trained on."""
import json
import math

import numpy as np
import pytest
import torch

from conftest import REPO
from msta import daemon_check, synth, video
from msta.description_check import description_misses
from msta.from_bundle import load_bundle
from msta.paper.fit import predict
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


@pytest.fixture(scope="module")
def loaded(meta):
    """(the bundle's model read back from its graphs, its tokenizer), once for the module."""
    model, _, _ = load_bundle(BUNDLE)
    return model, Tokenizer(BUNDLE / meta["tokenizer"]["vocab"])


@pytest.fixture(scope="module")
def held_out(meta, tmp_path_factory):
    """(decoded clips [N, T, H, W, 3], true labels): 4 clips of each label from the new seed."""
    out = tmp_path_factory.mktemp("held-out")
    entries = synth.write_dataset(out, NEW_SEED, 4, 2.0)
    size, frames, interval = meta["height"], meta["frames"], meta["frame_interval_ms"]
    clips = []
    for e in entries:
        decoded, fps = video.decode(out / e["file"], size)
        clips.append(video.sample(decoded, fps, synth.sample_times(len(decoded) / fps, frames, interval, None)))
    return np.stack(clips), [e["label"] for e in entries]


def prompt_ids(meta) -> np.ndarray:
    tok = Tokenizer(BUNDLE / meta["tokenizer"]["vocab"])
    return np.array(tok.tokenize([meta["template"].format(label) for label in meta["labels"]], meta["context_length"]),
                    dtype=np.int64)


def bundle_predictions(meta, clips) -> list[str]:
    text = run_graph(BUNDLE / "text.onnx", "input_ids", prompt_ids(meta), "text_embeds")
    vid = run_graph(BUNDLE / "video.onnx", "frames", clips, "video_embeds")
    return [meta["labels"][i] for i in (vid @ text.T).argmax(1)]


@need_ort
def test_held_out_top1_on_a_new_seed(meta, held_out):
    clips, truth = held_out
    predicted = bundle_predictions(meta, clips)
    top1 = np.mean([p == t for p, t in zip(predicted, truth)])
    wrong = [(t, p) for p, t in zip(predicted, truth) if p != t]
    print(f"held-out top-1 of the committed bundle: {top1:.4f} on {len(truth)} clips (seed {NEW_SEED}); wrong: {wrong}")
    assert top1 >= 0.95, f"top-1 {top1:.3f} on {len(truth)} clips; wrong: {wrong}"


def test_descriptions_pick_their_own_class(meta, loaded):
    """Each label's spatial and temporal description means (frozen text branch) are nearest its own prompt."""
    model, tok = loaded
    assert description_misses(model, tok, meta["labels"], synth.descriptions(tuple(meta["labels"]))) == []


def test_colour_only_descriptions_are_caught(meta, loaded):
    """The check fails descriptions that name only the colour (the old bundle's spatial ones)."""
    model, tok = loaded
    colour_only = {label: {"spatial": [f"a {label.split()[0]} round ball on a plain grey background"],
                           "temporal": d["temporal"]} for label, d in synth.descriptions(tuple(meta["labels"])).items()}
    misses = description_misses(model, tok, meta["labels"], colour_only)
    assert any("spatial" in m for m in misses), misses


def sign_test_p(wins: int, losses: int) -> float:
    """One-sided sign test: P(at least `wins` of the wins + losses discordant clips go the
    adapters' way if either way were equally likely)."""
    n = wins + losses
    return sum(math.comb(n, k) for k in range(wins, n + 1)) / 2 ** n if n else 1.0


def test_sign_test_p():
    assert sign_test_p(0, 0) == 1.0
    assert sign_test_p(3, 0) == 0.125
    assert sign_test_p(1, 1) == 0.75


def test_the_adapters_beat_the_bare_backbone(meta, loaded, held_out):
    """The same graphs with the adapters off (the bare backbone the bundle was trained on) get
    more of the new seed's clips wrong: clips only one of the two gets right, by a sign test."""
    model, _ = loaded
    clips, truth = held_out
    ids = torch.tensor(prompt_ids(meta))
    right = {adapted: np.array([meta["labels"][i] == t for i, t in zip(predict(model, ids, clips, adapted, adapted), truth)])
             for adapted in (True, False)}
    wins = int((right[True] & ~right[False]).sum())
    losses = int((right[False] & ~right[True]).sum())
    p = sign_test_p(wins, losses)
    print(f"MSTA {right[True].mean():.4f} vs bare backbone {right[False].mean():.4f} on {len(truth)} clips "
          f"(seed {NEW_SEED}): {wins} clips only MSTA gets right, {losses} only the bare one; sign test p = {p:.2g}")
    assert right[True].mean() > right[False].mean() and p < 0.01


def test_the_daemon_view_of_a_new_seed(meta, loaded, tmp_path):
    """3 s files and a demo video of the new seed, cut into clips as the daemon cuts them
    (daemon_check): what the probe and e2e daemon tests judge, without the daemon."""
    model, tok = loaded
    c = daemon_check.check(model, tok, meta["labels"], NEW_SEED, tmp_path, meta["frame_interval_ms"])
    print(daemon_check.summary([c]), *c.misses, *c.restarts, sep="\n")
    assert daemon_check.failures([c]) == []
