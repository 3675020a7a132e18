"""Teaching from the bundle a box runs: its model read back from the ONNX graphs (from_bundle.py)
re-exports to graphs that give the original bundle's embeddings in onnxruntime-node, and
`train --init-bundle` trains fresh adapters on that frozen backbone."""
import json
import shutil

import numpy as np
import pytest
import torch

from conftest import REPO, backbone_preset
from msta import synth
from msta.checkpoint import load_checkpoint
from msta.cli import main
from msta.export import write_bundle
from msta.from_bundle import BundleError, load_bundle
from msta.model import MSTAModel
from msta.tokenizer import Tokenizer
from onnx_runtime import need_ort, run_graph

COMMITTED = REPO / "models" / "synthetic-actions"
META = {"name": "zs", "template": "a video of {}.", "frame_interval_ms": 160.0, "labels": ["a", "b"]}


def reference(bundle):
    """(frames, input_ids) of a bundle's reference/."""
    index = json.loads((bundle / "reference" / "reference.json").read_text())

    def array(name):
        e = index[name]
        return np.frombuffer((bundle / "reference" / e["file"]).read_bytes(), dtype=e["dtype"]).reshape(e["shape"])
    return array("frames").copy(), array("input_ids").copy()


def graph_gap(a, b):
    """Max abs difference between two bundles' video and text embeddings in onnxruntime-node, on a's reference inputs."""
    frames, ids = reference(a)
    video = [run_graph(x / "video.onnx", "frames", frames, "video_embeds") for x in (a, b)]
    text = [run_graph(x / "text.onnx", "input_ids", ids, "text_embeds") for x in (a, b)]
    return max(float(np.abs(video[0] - video[1]).max()), float(np.abs(text[0] - text[1]).max()))


def test_the_committed_bundle_reads_back_with_its_architecture_and_adapters():
    model, vocab, meta = load_bundle(COMMITTED)
    c = model.cfg
    assert (c.name, c.joint_space_time, c.frames, c.image_size, c.patch_size, c.tubelet) == ("viclip-tiny", True, 8, 64, 16, 4)
    assert (c.vision_width, c.vision_layers, c.vision_heads, c.text_width, c.text_layers, c.text_heads) == (64, 3, 4, 64, 3, 4)
    # The vocabulary is the backbone's own (learned from its corpus): the graphs' embedding table fits it.
    assert (c.vocab_size, c.context_length, c.embed_dim) == (Tokenizer(COMMITTED / "bpe_vocab.txt.gz").vocab_size, 16, 64)
    a = model.adapters.cfg
    assert (a.dim, a.first_layer, a.last_layer, a.scale, a.temporal) == (32, 2, 3, 0.05, True)
    assert model.logit_scale() == pytest.approx(json.loads((COMMITTED / "bundle.json").read_text())["logit_scale"], rel=1e-6)
    assert vocab == (COMMITTED / "bpe_vocab.txt.gz").read_bytes()
    assert meta["sampling"] == {"mode": "interval", "interval_ms": 160.0} and len(meta["labels"]) == 15
    assert all(not p.requires_grad for p in model.backbone.parameters())


@need_ort
def test_re_exported_committed_bundle_gives_the_original_embeddings(tmp_path):
    model, vocab, meta = load_bundle(COMMITTED)
    out = tmp_path / "again"
    write_bundle(model, vocab, meta, out, reference(COMMITTED)[0], "test")
    gap = graph_gap(COMMITTED, out)
    assert gap <= 1e-4, gap
    # and today's exporter's graphs read back too (the temporal convs' weights are unnamed there)
    again, _, _ = load_bundle(out)
    for name, value in model.state_dict().items():
        assert torch.equal(again.state_dict()[name], value), name


@need_ort
@pytest.mark.parametrize("joint", [True, False], ids=["viclip-joint", "clip-per-frame"])
def test_re_exported_zero_shot_bundle_gives_the_original_embeddings(tmp_path, joint):
    """A zero-shot bundle (no adapters) of random weights: read back, re-exported, the same graphs' outputs."""
    vocab = (COMMITTED / "bpe_vocab.txt.gz").read_bytes()
    cfg = backbone_preset("viclip-tiny", joint_space_time=joint, frames=4, image_size=32, vision_width=32, vision_layers=2,
                          vision_heads=2, text_width=32, text_layers=2, text_heads=4, context_length=12, vocab_size=Tokenizer(COMMITTED / "bpe_vocab.txt.gz").vocab_size,
                          embed_dim=16, tubelet=2 if joint else 1)
    torch.manual_seed(1)
    original = MSTAModel(cfg, None)
    frames = np.random.default_rng(2).integers(0, 256, size=(3, 4, 32, 32, 3), dtype=np.uint8)
    write_bundle(original, vocab, META, tmp_path / "a", frames, "test")
    model, vocab_again, meta = load_bundle(tmp_path / "a")
    assert model.adapters is None and model.cfg == cfg and vocab_again == vocab and meta["labels"] == ["a", "b"]
    write_bundle(model, vocab_again, meta, tmp_path / "b", frames, "test")
    gap = graph_gap(tmp_path / "a", tmp_path / "b")
    assert gap <= 1e-4, gap
    # the weights are not degenerate: distinct clips, distinct embeddings
    video = run_graph(tmp_path / "b" / "video.onnx", "frames", frames, "video_embeds")
    assert np.abs(video[0] - video[1]).max() > 1e-2


def test_a_tampered_graph_or_reference_is_refused_naming_the_file(tmp_path):
    bad = tmp_path / "bad"
    shutil.copytree(COMMITTED, bad)
    (bad / "text.onnx").write_bytes(b"not a graph")
    with pytest.raises(BundleError, match=r"text\.onnx: sha256 expected"):
        load_bundle(bad)
    drift = tmp_path / "drift"
    shutil.copytree(COMMITTED, drift)
    embeds = drift / "reference" / "video_embeds.bin"
    values = np.frombuffer(embeds.read_bytes(), dtype="<f4").copy()
    values[0] += 0.01
    embeds.write_bytes(values.tobytes())
    with pytest.raises(BundleError, match=r"from reference/ \(bound 0\.0001\)"):
        load_bundle(drift)


def test_train_init_bundle_trains_fresh_adapters_on_the_bundles_frozen_backbone(tmp_path, capsys):
    labels = ("red ball blinking", "nothing happening")
    synth.write_dataset(tmp_path / "clips", 4, 2, 1.6, labels)
    (tmp_path / "labels.txt").write_text("\n".join(labels) + "\n")
    common = ["train", "--data", str(tmp_path / "clips"), "--labels", str(tmp_path / "labels.txt"), "--holdout", "0"]
    assert main([*common, "--init-bundle", str(COMMITTED), "--out", str(tmp_path / "run"), "--epochs", "1", "--alpha", "0",
                 "--adapter-dim", "8", "--adapter-layers", "3-3", "--name", "taught"]) == 0
    trained, blob = load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    source, vocab, _ = load_bundle(COMMITTED)
    for (name, got), want in zip(trained.backbone.state_dict().items(), source.backbone.state_dict().values()):
        assert torch.equal(got, want), name
    assert (trained.adapters.cfg.dim, trained.adapters.cfg.first_layer) == (8, 3)
    assert blob["vocab_gz"] == vocab and blob["meta"]["labels"] == list(labels) and blob["meta"]["name"] == "taught"
    # the bundle's own sampling is the default: the new bundle takes frames like the running one
    assert blob["meta"]["sampling"] == {"mode": "interval", "interval_ms": 160.0}
    capsys.readouterr()
    assert main([*common, "--init-bundle", str(COMMITTED), "--backbone-checkpoint", "x.pt", "--out", str(tmp_path / "o")]) == 2
    assert "give one of --backbone-checkpoint FILE, --init-bundle DIR, --weights" in capsys.readouterr().err
    assert main([*common, "--init-bundle", str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert f"{tmp_path}: no bundle.json" in capsys.readouterr().err
