"""Run an exported graph in onnxruntime-node (the daemon's runtime) from Python tests."""
from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO

SCRIPT = Path(__file__).with_name("run_onnx.mjs")
HAVE_ORT = shutil.which("node") is not None and (REPO / "node_modules" / "onnxruntime-node").is_dir()
need_ort = pytest.mark.skipif(not HAVE_ORT, reason="node with the repo's node_modules/onnxruntime-node is needed")


def run_graph(model: Path, input_name: str, array: np.ndarray, output_name: str) -> np.ndarray:
    dtype = {np.dtype(np.uint8): "uint8", np.dtype(np.int64): "int64"}[array.dtype]
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        src.write_bytes(np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes())
        proc = subprocess.run(["node", str(SCRIPT), str(model), input_name, dtype, json.dumps(list(array.shape)),
                               str(src), output_name, str(dst)], capture_output=True, text=True, timeout=300, cwd=REPO)
        if proc.returncode != 0:
            raise RuntimeError(f"onnxruntime-node failed on {model}: {proc.stderr.strip()}")
        dims = json.loads(proc.stdout)
        return np.frombuffer(dst.read_bytes(), dtype="<f4").reshape(dims)
