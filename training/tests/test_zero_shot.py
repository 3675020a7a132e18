"""Zero-shot bundles from published weights, without training: `export --weights` on generated
ViCLIP-B/16 and OpenAI CLIP ViT-B/16 state dicts (their key names and widths, at reduced depth and
image size so the test stays small) runs in onnxruntime-node with PyTorch's embeddings, and the
graphs are the bare backbone's (no adapters anywhere). `train --epochs 0` is refused."""
import json
import math
from dataclasses import replace

import numpy as np
import onnx
import pytest
import torch

from msta import config, synth
from msta.checkpoint import load_backbone_weights
from msta.cli import main
from msta.model import MSTAModel
from msta.tokenizer import Tokenizer, learn_merges, write_merges
from onnx_runtime import need_ort, run_graph
from published_shapes import B16, openai_clip_shapes, realistic, viclip_shapes

SMALL = replace(B16, vision_layers=2, text_layers=2, image=64)
LABELS = ["red ball moving left", "blue ball growing", "nothing happening"]
CASES = {  # preset: (weights kind, shapes of the published file at SMALL size, context length)
    "viclip-b16": ("viclip", viclip_shapes, 32),
    "clip-vit-b16": ("openai-clip", openai_clip_shapes, 77),
}


@pytest.fixture(scope="module")
def vocab(tmp_path_factory):
    path = tmp_path_factory.mktemp("vocab") / "v.txt.gz"
    write_merges(path, learn_merges(synth.corpus(), 300))
    return path


def weights_file(tmp_path, preset: str, vocab_size: int):
    kind, shapes, context = CASES[preset]
    state = realistic(shapes(SMALL, context=context, vocab=vocab_size), seed=1)
    if kind == "viclip":
        state["temp"] = torch.tensor(0.01)
        blob = {"model": {f"module.{k}": v for k, v in state.items()}}  # as the DDP-trained file
    else:
        state["logit_scale"] = torch.tensor(math.log(100.0))
        blob = state
    path = tmp_path / f"{preset}.pth"
    torch.save(blob, path)
    return kind, path, state


def small_preset(preset: str, vocab_size: int) -> config.BackboneConfig:
    return replace(config.PRESETS[preset], vision_layers=2, text_layers=2, image_size=64, vocab_size=vocab_size)


@pytest.fixture(scope="module", params=sorted(CASES))
def exported(request, tmp_path_factory, vocab):
    """(preset, small config, weights kind, weights file, bundle dir): `export --weights` through
    the CLI's own path, with the preset at the small size."""
    preset = request.param
    tmp = tmp_path_factory.mktemp(preset)
    tok = Tokenizer(vocab)
    cfg = small_preset(preset, tok.vocab_size)
    kind, path, _ = weights_file(tmp, preset, tok.vocab_size)
    labels = tmp / "labels.txt"
    labels.write_text("\n".join(LABELS) + "\n")
    with pytest.MonkeyPatch.context() as mp:
        mp.setitem(config.PRESETS, preset, cfg)
        assert main(["export", "--weights", f"{kind}:{path}", "--backbone", preset, "--vocab", str(vocab),
                     "--labels", str(labels), "--out", str(tmp / "bundle")]) == 0
    return preset, cfg, kind, path, tmp / "bundle"


@need_ort
def test_zero_shot_export_runs_in_onnxruntime_with_pytorch_parity(exported, vocab):
    preset, cfg, kind, path, out = exported
    tok = Tokenizer(vocab)
    meta = json.loads((out / "bundle.json").read_text())
    assert meta["adapters"] is None and meta["labels"] == LABELS and meta["backbone"] == preset
    assert meta["context_length"] == cfg.context_length and meta["logit_scale"] == pytest.approx(100.0, rel=1e-5)
    # the published backbones sample uniformly over a clip (ViCLIP's way): 8 frames over 4 s
    assert meta["sampling"] == {"mode": "uniform", "clip_ms": 4000.0} and meta["frame_interval_ms"] == 500.0
    # adapters provably off: no adapter weight in either graph ...
    for graph in ("video.onnx", "text.onnx"):
        names = [i.name for i in onnx.load(str(out / graph)).graph.initializer]
        assert names and not [n for n in names if "adapters" in n], graph
    # ... and the graphs compute the bare backbone, loaded here on its own from the same file
    bare = MSTAModel(cfg, None)
    load_backbone_weights(bare, path, kind)
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, size=(3, cfg.frames, 64, 64, 3), dtype=np.uint8)
    ids = np.array(tok.tokenize([f"a video of {x}." for x in LABELS] + ["x"], cfg.context_length), dtype=np.int64)
    with torch.no_grad():
        want_v = bare.encode_video(torch.from_numpy(frames)).numpy()
        want_t = bare.encode_text(torch.from_numpy(ids)).numpy()
    got_v = run_graph(out / "video.onnx", "frames", frames, "video_embeds")
    got_t = run_graph(out / "text.onnx", "input_ids", ids, "text_embeds")
    assert np.abs(got_v - want_v).max() <= 1e-4 and np.abs(got_t - want_t).max() <= 1e-4
    # distinct inputs give distinct embeddings (the weights are not degenerate)
    assert np.abs(got_v[0] - got_v[1]).max() > 1e-2 and np.abs(got_t[0] - got_t[1]).max() > 1e-2


@need_ort
@pytest.mark.parametrize("exported", ["viclip-b16"], indirect=True)  # one backbone: evaluation is the same code
def test_bare_backbone_and_its_zero_shot_bundle_give_the_same_evaluation(exported, vocab, tmp_path, monkeypatch, capsys):
    """evaluate --weights (PyTorch) and evaluate --bundle (onnxruntime-node), multi-view."""
    preset, cfg, kind, path, out = exported
    monkeypatch.setitem(config.PRESETS, preset, cfg)
    synth.write_dataset(tmp_path / "clips", 5, 2, 2.0, tuple(LABELS))
    labels = out.parent / "labels.txt"
    common = ["--data", str(tmp_path / "clips"), "--clips", "2", "--crops", "3"]
    assert main(["evaluate", "--bundle", str(out), *common, "--json", str(tmp_path / "b.json")]) == 0
    assert main(["evaluate", "--weights", f"{kind}:{path}", "--backbone", preset, "--vocab", str(vocab),
                 "--labels", str(labels), *common, "--json", str(tmp_path / "w.json")]) == 0
    from_bundle, from_weights = (json.loads((tmp_path / f).read_text()) for f in ("b.json", "w.json"))
    assert from_bundle == from_weights and from_bundle["clips"] == 6 and from_bundle["views"] == 6
    assert main(["evaluate", "--data", str(tmp_path / "clips")]) == 2
    assert "give one of --checkpoint FILE, --bundle DIR, --weights" in capsys.readouterr().err


def test_export_arguments_are_checked(tmp_path, vocab, capsys):
    out = str(tmp_path / "b")
    assert main(["export", "--out", out]) == 2
    assert "give --checkpoint FILE" in capsys.readouterr().err
    assert main(["export", "--weights", "viclip", "--vocab", str(vocab), "--out", out]) == 2
    assert "expected KIND:PATH" in capsys.readouterr().err
    assert main(["export", "--weights", f"viclip:{tmp_path / 'none.pth'}", "--vocab", str(vocab), "--out", out]) == 2
    assert f"weights file not found: {tmp_path / 'none.pth'}" in capsys.readouterr().err
    assert main(["export", "--weights", "viclip:x.pth", "--out", out]) == 2
    assert "needs --vocab" in capsys.readouterr().err


def test_train_with_zero_epochs_is_refused_and_names_the_way_to_a_zero_shot_bundle(tmp_path, capsys):
    labels = tmp_path / "labels.txt"
    labels.write_text("a\n")
    assert main(["train", "--data", str(tmp_path), "--labels", str(labels), "--out", str(tmp_path / "o"),
                 "--backbone-checkpoint", str(tmp_path / "b.pt"), "--epochs", "0"]) == 2
    err = capsys.readouterr().err
    assert "--epochs 0: training needs at least 1 epoch" in err and "export --weights" in err
    assert not (tmp_path / "o" / "checkpoint.pt").exists()
