"""Rewrites a bundle's video.onnx so that onnxruntime itself fails or stalls on some clips.

A clip "shows blue" when some pixel's blue value exceeds its red one by more than 100 (a blue ball
of training/'s synthetic world). On such a clip the rewritten graph either fails (a Gather whose
index is out of range) or runs a large data-dependent MatMul (`slow`, seconds on one idle AVX-512 thread).
Any other clip gives exactly the original embeddings. `heavy` makes every clip cost a fixed
MatMul (about 0.2-0.4 s on one idle thread): a model that is the bottleneck even on an idle box.

    python3 faulty-graph.py IN.onnx OUT.onnx fail|slow|heavy
"""
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def rewrite(src: str, dst: str, mode: str) -> None:
    model = onnx.load(src)
    g = model.graph
    for node in g.node:
        node.output[:] = ["video_embeds_raw" if o == "video_embeds" else o for o in node.output]

    def const(name: str, value: np.ndarray) -> None:
        g.initializer.append(numpy_helper.from_array(value, name))

    const("fx_zero", np.array(0.0, dtype=np.float32))
    const("fx_limit", np.array(100.0, dtype=np.float32))
    const("fx_one_shape", np.array([1], dtype=np.int64))
    const("fx_zero_i", np.array([0], dtype=np.int64))
    nodes = [
        helper.make_node("Cast", ["frames"], ["fx_f"], to=TensorProto.FLOAT),
        helper.make_node("Split", ["fx_f"], ["fx_r", "fx_g", "fx_b"], axis=4),
        helper.make_node("Sub", ["fx_b", "fx_r"], ["fx_d"]),
        helper.make_node("ReduceMax", ["fx_d"], ["fx_m"], keepdims=0),
        helper.make_node("Greater", ["fx_m", "fx_limit"], ["fx_blue"]),
        helper.make_node("Cast", ["fx_blue"], ["fx_i"], to=TensorProto.INT64),
        helper.make_node("Reshape", ["fx_i", "fx_one_shape"], ["fx_i1"]),
    ]
    if mode == "fail":
        # Index 1 into a 1-element tensor: onnxruntime refuses it at run time.
        const("fx_data", np.zeros([1], dtype=np.float32))
        nodes.append(helper.make_node("Gather", ["fx_data", "fx_i1"], ["fx_v"]))
    elif mode in ("slow", "heavy"):
        # [n,2048] x [2048,2048] with n = 24000 on a blue clip (200 GFLOP: seconds even on an idle
        # core), 0 otherwise; heavy: n = 2000 per clip of the batch, on every clip.
        const("fx_rows", np.array([24000 if mode == "slow" else 2000], dtype=np.int64))
        const("fx_cols", np.array([2048], dtype=np.int64))
        const("fx_square", np.array([2048, 2048], dtype=np.int64))
        nodes += [
            # slow: 0 or 1 times the rows; heavy: the batch size times them (the cost scales per clip).
            helper.make_node("Shape", ["frames"], ["fx_frames_dims"]),
            helper.make_node("Slice", ["fx_frames_dims", "fx_zero_i", "fx_one_shape"], ["fx_frames_shape"]),
            helper.make_node("Mul", ["fx_i1" if mode == "slow" else "fx_frames_shape", "fx_rows"], ["fx_n"]),
            helper.make_node("Concat", ["fx_n", "fx_cols"], ["fx_shape"], axis=0),
            helper.make_node("ConstantOfShape", ["fx_shape"], ["fx_a"], value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))),
            helper.make_node("ConstantOfShape", ["fx_square"], ["fx_w"], value=numpy_helper.from_array(np.array([1.0], dtype=np.float32))),
            helper.make_node("MatMul", ["fx_a", "fx_w"], ["fx_v"]),
        ]
    else:
        raise SystemExit(f"mode must be fail or slow, not {mode!r}")
    nodes += [
        helper.make_node("ReduceSum", ["fx_v"], ["fx_s"], keepdims=0),
        helper.make_node("Mul", ["fx_s", "fx_zero"], ["fx_z"]),
        helper.make_node("Add", ["video_embeds_raw", "fx_z"], ["video_embeds"]),
    ]
    g.node.extend(nodes)
    onnx.checker.check_model(model)
    onnx.save(model, dst)


if __name__ == "__main__":
    rewrite(sys.argv[1], sys.argv[2], sys.argv[3])
