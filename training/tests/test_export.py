"""Export round trip: a small trained-shape checkpoint -> msta-bundle/1 -> onnxruntime-node gives
PyTorch's embeddings; the bundle keeps the contract the daemon reads."""
import hashlib
import json

import numpy as np
import onnx
import pytest
import torch

from msta import synth
from msta.checkpoint import save_checkpoint
from msta.export import export_bundle
from msta.model import MSTAModel
from msta.tokenizer import Tokenizer, learn_merges, write_merges
from onnx_runtime import need_ort, run_graph

LABELS = ["red ball moving left", "blue ball growing", "nothing happening"]


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    from conftest import backbone_preset
    from msta.config import AdapterConfig
    tmp = tmp_path_factory.mktemp("export")
    vocab = tmp / "vocab.txt.gz"
    write_merges(vocab, learn_merges(synth.corpus(), 300))
    tok = Tokenizer(vocab)
    cfg = backbone_preset("viclip-tiny", frames=4, image_size=32, patch_size=16, vision_width=32, vision_layers=2,
                          vision_heads=2, text_width=32, text_layers=2, text_heads=2, context_length=12,
                          vocab_size=tok.vocab_size, embed_dim=16, tubelet=2)
    torch.manual_seed(0)
    model = MSTAModel(cfg, AdapterConfig(dim=8, first_layer=1, last_layer=2, scale=0.5))
    ckpt = tmp / "c.pt"
    save_checkpoint(ckpt, model, {"labels": LABELS, "template": "a video of {}.", "frame_interval_ms": 160,
                                  "name": "roundtrip"}, vocab.read_bytes())
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, size=(3, 4, 32, 32, 3), dtype=np.uint8)
    out = tmp / "bundle"
    meta = export_bundle(ckpt, out, frames)
    return out, meta, model, tok


def test_bundle_json_follows_the_contract(bundle):
    out, meta, model, _ = bundle
    on_disk = json.loads((out / "bundle.json").read_text())
    assert on_disk == json.loads(json.dumps(meta))
    assert set(on_disk) == {"format", "name", "backbone", "adapters", "frames", "height", "width", "embed_dim", "logit_scale",
                            "context_length", "template", "tokenizer", "pixel", "frame_interval_ms", "sampling", "labels", "files"}
    assert on_disk["format"] == "msta-bundle/1" and on_disk["labels"] == LABELS
    assert on_disk["adapters"] == {"dim": 8, "first_layer": 1, "last_layer": 2, "scale": 0.5, "temporal_kernel": 3,
                                   "temporal": True, "gradient_scale": False}
    assert on_disk["logit_scale"] == pytest.approx(model.logit_scale())
    assert on_disk["sampling"] == {"mode": "interval", "interval_ms": 160}
    assert on_disk["tokenizer"] == {"type": "clip-bpe", "vocab": "bpe_vocab.txt.gz"}
    for name, sha in on_disk["files"].items():
        assert hashlib.sha256((out / name).read_bytes()).hexdigest() == sha
    assert set(on_disk["files"]) == {"video.onnx", "text.onnx", "bpe_vocab.txt.gz"}


def test_graphs_have_the_contracts_names_types_and_dynamic_batch(bundle):
    out, meta, _, _ = bundle

    def io(graph_io):
        t = graph_io.type.tensor_type
        return graph_io.name, t.elem_type, [d.dim_param or d.dim_value for d in t.shape.dim]

    video = onnx.load(str(out / "video.onnx")).graph
    assert io(video.input[0]) == ("frames", onnx.TensorProto.UINT8, ["batch", 4, 32, 32, 3])
    assert io(video.output[0]) == ("video_embeds", onnx.TensorProto.FLOAT, ["batch", 16])
    text = onnx.load(str(out / "text.onnx")).graph
    assert io(text.input[0]) == ("input_ids", onnx.TensorProto.INT64, ["batch", 12])
    assert io(text.output[0]) == ("text_embeds", onnx.TensorProto.FLOAT, ["batch", 16])


def _ref(out, name):
    index = json.loads((out / "reference" / "reference.json").read_text())
    e = index[name]
    return np.frombuffer((out / "reference" / e["file"]).read_bytes(), dtype=e["dtype"]).reshape(e["shape"])


def test_reference_holds_pytorch_outputs(bundle):
    out, meta, model, tok = bundle
    index = json.loads((out / "reference" / "reference.json").read_text())
    assert index["texts"] == [meta["template"].format(label) for label in LABELS]
    ids = _ref(out, "input_ids")
    assert ids.tolist() == tok.tokenize(index["texts"], 12)
    with torch.no_grad():
        v = model.encode_video(torch.from_numpy(_ref(out, "frames").copy())).numpy()
        t = model.encode_text(torch.from_numpy(ids.copy())).numpy()
    assert np.allclose(_ref(out, "video_embeds"), v, atol=1e-6)
    assert np.allclose(_ref(out, "text_embeds"), t, atol=1e-6)
    logits = meta["logit_scale"] * v @ t.T
    scores = np.exp(logits - logits.max(1, keepdims=True))
    assert np.allclose(_ref(out, "scores"), scores / scores.sum(1, keepdims=True), atol=1e-5)


@need_ort
def test_onnxruntime_matches_pytorch_at_other_batch_sizes(bundle):
    out, _, model, tok = bundle
    rng = np.random.default_rng(1)
    for batch in (1, 5):
        frames = rng.integers(0, 256, size=(batch, 4, 32, 32, 3), dtype=np.uint8)
        with torch.no_grad():
            expected = model.encode_video(torch.from_numpy(frames)).numpy()
        assert np.abs(run_graph(out / "video.onnx", "frames", frames, "video_embeds") - expected).max() <= 1e-4
    ids = np.array(tok.tokenize(["a ball", "blue ball moving up", "x", "nothing happening"], 12), dtype=np.int64)
    with torch.no_grad():
        expected = model.encode_text(torch.from_numpy(ids)).numpy()
    assert np.abs(run_graph(out / "text.onnx", "input_ids", ids, "text_embeds") - expected).max() <= 1e-4


def test_export_refuses_a_checkpoint_without_labels(tmp_path, tiny_cfg, tiny_adapters):
    from msta.checkpoint import save_checkpoint as save
    ckpt = tmp_path / "c.pt"
    save(ckpt, MSTAModel(tiny_cfg, tiny_adapters), {"labels": [], "template": "{}", "frame_interval_ms": 160}, b"")
    with pytest.raises(ValueError, match="names no labels"):
        export_bundle(ckpt, tmp_path / "b", np.zeros((1, 4, 32, 32, 3), np.uint8))
