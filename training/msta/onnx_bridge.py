"""Run an exported graph in onnxruntime-node, the daemon's runtime (Python's onnxruntime is not
among the Debian packages): run_onnx.mjs, one node process and one session per call."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np

SCRIPT = Path(__file__).with_name("run_onnx.mjs")
REPO = Path(__file__).resolve().parents[2]


def available() -> bool:
    return shutil.which("node") is not None and (REPO / "node_modules" / "onnxruntime-node").is_dir()


def run_graph_batches(model: Path, input_name: str, arrays: list[np.ndarray], output_name: str,
                      timeout: float = 3600) -> list[np.ndarray]:
    """Each array through the graph, one session for all; float32 outputs in order."""
    if not available():
        raise RuntimeError(f"onnxruntime-node is needed: node and {REPO / 'node_modules' / 'onnxruntime-node'}")
    dtypes = {np.dtype(np.uint8): "uint8", np.dtype(np.int64): "int64"}
    if not arrays or any(a.dtype not in dtypes or a.dtype != arrays[0].dtype for a in arrays):
        raise ValueError("run_graph_batches: one or more arrays, all uint8 or all int64")
    with tempfile.TemporaryDirectory() as tmp:
        args = []
        for i, a in enumerate(arrays):
            src = Path(tmp) / f"in{i}.bin"
            src.write_bytes(np.ascontiguousarray(a).astype(a.dtype.newbyteorder("<")).tobytes())
            args += [json.dumps(list(a.shape)), str(src), str(Path(tmp) / f"out{i}.bin")]
        proc = subprocess.run(["node", str(SCRIPT), str(model), input_name, dtypes[arrays[0].dtype], output_name, *args],
                              capture_output=True, text=True, timeout=timeout, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {model}: {proc.stderr.strip()}")
        dims = [json.loads(line) for line in proc.stdout.splitlines()]
        return [np.frombuffer((Path(tmp) / f"out{i}.bin").read_bytes(), dtype="<f4").reshape(d).astype(np.float32)
                for i, d in enumerate(dims)]


def run_graph(model: Path, input_name: str, array: np.ndarray, output_name: str) -> np.ndarray:
    return run_graph_batches(model, input_name, [array], output_name)[0]
