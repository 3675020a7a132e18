"""Run an exported graph in onnxruntime-node (the daemon's runtime) from Python tests."""
import pytest

from msta.onnx_bridge import available, run_graph, run_graph_batches  # noqa: F401

HAVE_ORT = available()
need_ort = pytest.mark.skipif(not HAVE_ORT, reason="node with the repo's node_modules/onnxruntime-node is needed")
