"""int8 dynamic quantisation (quantize.py): per-channel weights within half a step, every MatMul /
Gemm with a constant weight and attention's scores rewritten (softmax x V kept float), and the committed test bundle's int8 video graph agreeing
with float on held-out synthetic clips of a new seed, run in onnxruntime-node (the daemon's runtime)."""
import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from conftest import REPO
from msta import synth, video
from msta.quantize import quantize_file, quantize_model, quantize_weight
from msta.tokenizer import Tokenizer
from onnx_runtime import need_ort, run_graph

BUNDLE = REPO / "models" / "synthetic-actions"
NEW_SEED = 20261201


def test_weights_are_symmetric_int8_per_output_channel():
    rng = np.random.default_rng(0)
    w = rng.normal(size=(64, 5)).astype(np.float32) * np.array([1e-3, 0.1, 1, 10, 0], dtype=np.float32)
    q, scale = quantize_weight(w)
    assert q.dtype == np.int8 and scale.shape == (5,) and np.abs(q).max() <= 127
    assert np.all(np.abs(q.astype(np.float32) * scale - w) <= scale / 2 + 1e-9)
    assert np.all(np.abs(q[:, :4]).max(axis=0) == 127) and np.all(q[:, 4] == 0)


def _const_ops(model: onnx.ModelProto) -> list[str]:
    inits = {t.name for t in model.graph.initializer}
    return [n.op_type for n in model.graph.node if n.op_type in ("MatMul", "Gemm") and n.input[1] in inits]


def test_gemm_with_transposed_weight_alpha_and_beta(tmp_path):
    rng = np.random.default_rng(1)
    w, c = rng.normal(size=(6, 4)).astype(np.float32), rng.normal(size=(6,)).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("Gemm", ["x", "w", "c"], ["y"], transB=1, alpha=0.5, beta=2.0)], "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4])], [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 6])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(c, "c")])
    q, done = quantize_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)]))
    assert done == 1 and _const_ops(q) == [] and [n.op_type for n in q.graph.node].count("MatMulInteger") == 1
    onnx.checker.check_model(q)


def _scores_ops(model: onnx.ModelProto) -> list[str]:
    """MatMuls of two activations neither of which is a softmax's output (attention's Q x K^T)."""
    inits = {t.name for t in model.graph.initializer}
    softmax = {o for n in model.graph.node if n.op_type == "Softmax" for o in n.output}
    return [n.name for n in model.graph.node if n.op_type == "MatMul" and not (set(n.input) & (inits | softmax))]


def _attention(rng: np.random.Generator, tokens: int, dim: int) -> onnx.ModelProto:
    """y = softmax(x Wq (x Wk)^T / sqrt(dim)) (x Wv): one head of attention, x = (pixels - 128) / 40."""
    w = {k: numpy_helper.from_array(rng.normal(size=(dim, dim)).astype(np.float32) / np.sqrt(dim), k) for k in ("wq", "wk", "wv")}
    nodes = [
        helper.make_node("Cast", ["pixels"], ["pf"], to=TensorProto.FLOAT), helper.make_node("Sub", ["pf", "mid"], ["pc"]),
        helper.make_node("Mul", ["pc", "spread"], ["x"]),
        helper.make_node("MatMul", ["x", "wq"], ["q"]), helper.make_node("MatMul", ["x", "wk"], ["k"]),
        helper.make_node("MatMul", ["x", "wv"], ["v"]), helper.make_node("Transpose", ["k"], ["kt"], perm=[1, 0]),
        helper.make_node("MatMul", ["q", "kt"], ["s"], name="scores"), helper.make_node("Mul", ["s", "inv"], ["s2"]),
        helper.make_node("Softmax", ["s2"], ["p"], axis=-1), helper.make_node("MatMul", ["p", "v"], ["y"], name="mix"),
    ]
    consts = [numpy_helper.from_array(np.array(v, dtype=np.float32), k) for k, v in (("inv", 1 / np.sqrt(dim)), ("mid", 128.0), ("spread", 1 / 40))]
    graph = helper.make_graph(nodes, "attention", [helper.make_tensor_value_info("pixels", TensorProto.UINT8, [tokens, dim])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [tokens, dim])], [*w.values(), *consts])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 14)])


@need_ort
def test_attention_scores_are_quantised_and_the_probabilities_times_v_stay_float(tmp_path):
    rng = np.random.default_rng(3)
    model = _attention(rng, 50, 32)
    q, done = quantize_model(model)
    onnx.checker.check_model(q)
    ops = [n.op_type for n in q.graph.node]
    assert done == 4 and _const_ops(q) == [] and _scores_ops(q) == []
    assert ops.count("MatMulInteger") == 4 and ops.count("DynamicQuantizeLinear") == 5
    assert [n.name for n in q.graph.node if n.op_type == "MatMul"] == ["mix"], "softmax x V stays float"
    onnx.save(model, str(tmp_path / "f.onnx"))
    onnx.save(q, str(tmp_path / "q.onnx"))
    pixels = rng.integers(0, 256, size=(50, 32), dtype=np.uint8)
    fp32 = run_graph(tmp_path / "f.onnx", "pixels", pixels, "y")
    int8 = run_graph(tmp_path / "q.onnx", "pixels", pixels, "y")
    cos = (fp32 * int8).sum(1) / np.linalg.norm(fp32, axis=1) / np.linalg.norm(int8, axis=1)
    print(f"one head of attention, int8 vs float: cosine per token min {cos.min():.5f}")
    assert cos.min() > 0.99


def test_every_constant_matmul_and_attention_scores_of_the_bundle_are_quantised(tmp_path):
    src = onnx.load(str(BUNDLE / "video.onnx"))
    weights, scores = len(_const_ops(src)), len(_scores_ops(src))
    done = quantize_file(BUNDLE / "video.onnx", tmp_path / "v.onnx")
    q = onnx.load(str(tmp_path / "v.onnx"))
    assert weights > 0 and done == weights + scores and _const_ops(q) == [] and _scores_ops(q) == []
    assert [n.op_type for n in q.graph.node].count("DynamicQuantizeLinear") == weights + 2 * scores
    assert (tmp_path / "v.onnx").stat().st_size < (BUNDLE / "video.onnx").stat().st_size


def test_export_int8_writes_the_variant_beside_float_with_its_hash(tmp_path, tiny_cfg, tiny_adapters):
    import torch
    from msta.checkpoint import save_checkpoint
    from msta.export import export_bundle, sha256
    from msta.model import MSTAModel
    from msta.tokenizer import learn_merges, write_merges
    vocab = tmp_path / "vocab.txt.gz"
    write_merges(vocab, learn_merges(synth.corpus(), 300))
    cfg = tiny_cfg.__class__(**{**tiny_cfg.to_dict(), "vocab_size": Tokenizer(vocab).vocab_size,
                                "pixel_mean": tiny_cfg.pixel_mean, "pixel_std": tiny_cfg.pixel_std})
    torch.manual_seed(0)
    save_checkpoint(tmp_path / "c.pt", MSTAModel(cfg, tiny_adapters),
                    {"labels": ["a", "b"], "template": "a video of {}.", "frame_interval_ms": 160, "name": "q"}, vocab.read_bytes())
    frames = np.random.default_rng(0).integers(0, 256, size=(1, cfg.frames, cfg.image_size, cfg.image_size, 3), dtype=np.uint8)
    meta = export_bundle(tmp_path / "c.pt", tmp_path / "b", frames, int8=True)
    assert meta["variants"] == {"int8": {"video": "video.int8.onnx"}}
    assert meta["files"]["video.int8.onnx"] == sha256(tmp_path / "b" / "video.int8.onnx")
    assert meta["files"]["video.onnx"] == sha256(tmp_path / "b" / "video.onnx")
    assert json.loads((tmp_path / "b" / "bundle.json").read_text()) == json.loads(json.dumps(meta))


@need_ort
def test_int8_top1_agrees_with_float_on_held_out_clips(tmp_path):
    meta = json.loads((BUNDLE / "bundle.json").read_text())
    quantize_file(BUNDLE / "video.onnx", tmp_path / "video.int8.onnx")
    entries = synth.write_dataset(tmp_path / "clips", NEW_SEED, 2, 2.0)
    size, frames, interval = meta["height"], meta["frames"], meta["frame_interval_ms"]
    clips = []
    for e in entries:
        decoded, fps = video.decode(tmp_path / "clips" / e["file"], size)
        clips.append(video.sample(decoded, fps, synth.sample_times(len(decoded) / fps, frames, interval, None)))
    tok = Tokenizer(BUNDLE / meta["tokenizer"]["vocab"])
    ids = np.array(tok.tokenize([meta["template"].format(label) for label in meta["labels"]], meta["context_length"]), dtype=np.int64)
    text = run_graph(BUNDLE / "text.onnx", "input_ids", ids, "text_embeds")
    fp32 = run_graph(BUNDLE / "video.onnx", "frames", np.stack(clips), "video_embeds")
    int8 = run_graph(tmp_path / "video.int8.onnx", "frames", np.stack(clips), "video_embeds")
    agree = np.mean((fp32 @ text.T).argmax(1) == (int8 @ text.T).argmax(1))
    cos = (fp32 * int8).sum(1)
    print(f"int8 vs fp32: top-1 agreement {agree:.4f} on {len(clips)} held-out clips (seed {NEW_SEED}); "
          f"cosine min {cos.min():.5f} median {np.median(cos):.5f}")
    assert agree >= 0.99 and cos.min() > 0.99
