"""Dynamic int8 quantisation of an exported graph, written with the onnx package alone (onnxruntime's
Python quantiser is not installed here).

Every MatMul and Gemm whose weight is a constant becomes
    DynamicQuantizeLinear(x) -> MatMulInteger(x_q, W_q, x_zero_point) -> Cast(float) -> Mul(x_scale * w_scale)
with W quantised symmetrically to int8 per output channel (one scale per column, zero point 0) and
the activation to uint8 per tensor at run time. That is the pattern onnxruntime's CPU provider fuses
into DynamicQuantizeMatMul (u8 x s8 dot products: AVX-512 VNNI on x86, SDOT on Arm).

Attention's scores (Q x K^T, a MatMul of two activations) are quantised too, both sides to uint8
per tensor at run time: at ViCLIP-B/16's 1,569 tokens they were a quarter of the FLOPs and, left in
float, a quarter of the int8 graph's time. The product of the attention probabilities and V stays
float32: quantised per tensor, the many probabilities far below the largest one round to zero,
and quantising T x T of them costs a pass over the biggest tensor. So do the patch-embedding Conv,
LayerNorm and softmax."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INT8_MAX = 127


def quantize_weight(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """float [K, N] -> (int8 [K, N], float32 scale [N]): symmetric per output column."""
    peak = np.abs(w).max(axis=0)
    scale = np.where(peak > 0, peak / INT8_MAX, 1.0).astype(np.float32)
    q = np.clip(np.rint(w / scale), -INT8_MAX, INT8_MAX).astype(np.int8)
    return q, scale


class _Rewriter:
    def __init__(self, model: onnx.ModelProto):
        self.graph = model.graph
        self.inits = {t.name: t for t in self.graph.initializer}
        self.producers = {o: n for n in self.graph.node for o in n.output}
        self.quantized: dict[tuple[str, bool], tuple[str, str]] = {}
        self.new_inits: list[onnx.TensorProto] = []
        self.count = 0

    def constant(self, name: str) -> np.ndarray | None:
        t = self.inits.get(name)
        return None if t is None else numpy_helper.to_array(t)

    def weight(self, name: str, transpose: bool, alpha: float) -> tuple[str, str] | None:
        """Names of the int8 weight and its per-column scale (alpha folded in), made once per weight."""
        key = (name, transpose)
        if key in self.quantized and alpha == 1.0:
            return self.quantized[key]
        w = self.constant(name)
        if w is None or w.dtype != np.float32 or w.ndim != 2:
            return None
        q, scale = quantize_weight(w.T if transpose else w)
        base = f"{name}{'_T' if transpose else ''}_{len(self.new_inits)}"
        names = (f"{base}_int8", f"{base}_scale")
        self.new_inits += [numpy_helper.from_array(q, names[0]), numpy_helper.from_array(scale * np.float32(alpha), names[1])]
        if alpha == 1.0:
            self.quantized[key] = names
        return names

    def matmul(self, x: str, out: str, weight: tuple[str, str], tag: str) -> list[onnx.NodeProto]:
        w_q, w_scale = weight
        p = f"{tag}_q{self.count}"
        self.count += 1
        return [
            helper.make_node("DynamicQuantizeLinear", [x], [f"{p}_x", f"{p}_xs", f"{p}_xz"], name=f"{p}_dql"),
            helper.make_node("MatMulInteger", [f"{p}_x", w_q, f"{p}_xz"], [f"{p}_i32"], name=f"{p}_mmi"),
            helper.make_node("Cast", [f"{p}_i32"], [f"{p}_f"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_xs", w_scale], [f"{p}_s"], name=f"{p}_scale"),
            helper.make_node("Mul", [f"{p}_f", f"{p}_s"], [out], name=f"{p}_out"),
        ]

    def is_scores(self, node: onnx.NodeProto) -> bool:
        """A MatMul of two activations, neither a softmax's output: attention's Q x K^T."""
        return all(i not in self.inits and getattr(self.producers.get(i), "op_type", None) != "Softmax" for i in node.input)

    def scores(self, node: onnx.NodeProto) -> list[onnx.NodeProto]:
        p = f"{node.name or 'scores'}_q{self.count}"
        self.count += 1
        a, b = node.input
        return [
            helper.make_node("DynamicQuantizeLinear", [a], [f"{p}_a", f"{p}_as", f"{p}_az"], name=f"{p}_dqa"),
            helper.make_node("DynamicQuantizeLinear", [b], [f"{p}_b", f"{p}_bs", f"{p}_bz"], name=f"{p}_dqb"),
            helper.make_node("MatMulInteger", [f"{p}_a", f"{p}_b", f"{p}_az", f"{p}_bz"], [f"{p}_i32"], name=f"{p}_mmi"),
            helper.make_node("Cast", [f"{p}_i32"], [f"{p}_f"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_as", f"{p}_bs"], [f"{p}_s"], name=f"{p}_scale"),
            helper.make_node("Mul", [f"{p}_f", f"{p}_s"], [node.output[0]], name=f"{p}_out"),
        ]

    def rewrite(self, node: onnx.NodeProto) -> list[onnx.NodeProto] | None:
        attrs = {a.name: helper.get_attribute_value(a) for a in node.attribute}
        if node.op_type == "MatMul":
            weight = self.weight(node.input[1], False, 1.0)
            if weight is None:
                return self.scores(node) if self.is_scores(node) else None
            return self.matmul(node.input[0], node.output[0], weight, node.name or "matmul")
        if node.op_type == "Gemm" and not attrs.get("transA", 0):
            weight = self.weight(node.input[1], bool(attrs.get("transB", 0)), float(attrs.get("alpha", 1.0)))
            if weight is None:
                return None
            tag = node.name or "gemm"
            if len(node.input) < 3 or not node.input[2]:
                return self.matmul(node.input[0], node.output[0], weight, tag)
            nodes = self.matmul(node.input[0], f"{tag}_mm{self.count}", weight, tag)
            bias = node.input[2]
            beta = float(attrs.get("beta", 1.0))
            if beta != 1.0:
                c = self.constant(bias)
                if c is None:
                    return None
                bias = f"{tag}_bias{self.count}"
                self.new_inits.append(numpy_helper.from_array((c * beta).astype(np.float32), bias))
            return nodes + [helper.make_node("Add", [nodes[-1].output[0], bias], [node.output[0]], name=f"{tag}_bias")]
        return None


def quantize_model(model: onnx.ModelProto) -> tuple[onnx.ModelProto, int]:
    """(the int8 model, how many MatMul/Gemm nodes were quantised: constant weights and attention
    scores). The input model is not changed."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    r = _Rewriter(out)
    nodes: list[onnx.NodeProto] = []
    done = 0
    for node in out.graph.node:
        replaced = r.rewrite(node)
        if replaced is None:
            nodes.append(node)
        else:
            nodes += replaced
            done += 1
    used = {i for n in nodes for i in n.input}
    kept = [t for t in out.graph.initializer if t.name in used]
    del out.graph.node[:]
    out.graph.node.extend(nodes)
    del out.graph.initializer[:]
    out.graph.initializer.extend(kept + [t for t in r.new_inits if t.name in used])
    # MatMulInteger and DynamicQuantizeLinear are in the default domain from opset 10 / 11.
    for opset in out.opset_import:
        if opset.domain in ("", "ai.onnx") and opset.version < 11:
            opset.version = 11
    return out, done


def quantize_file(src: Path, dst: Path) -> int:
    """Writes the int8 variant of src to dst (checked); returns the number of nodes quantised."""
    model, done = quantize_model(onnx.load(str(src)))
    if done == 0:
        raise ValueError(f"{src}: no MatMul or Gemm to quantise")
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return done


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys
    ap = argparse.ArgumentParser(prog="python3 -m msta.quantize", description="int8 variant of an ONNX graph")
    ap.add_argument("src")
    ap.add_argument("dst")
    args = ap.parse_args(argv)
    try:
        print(f"quantised {quantize_file(Path(args.src), Path(args.dst))} MatMul/Gemm nodes: {args.dst}")
    except (ValueError, FileNotFoundError, onnx.checker.ValidationError) as e:
        print(f"quantize: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
