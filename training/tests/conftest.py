import sys
from pathlib import Path

import pytest
import torch

TRAINING = Path(__file__).resolve().parents[1]
REPO = TRAINING.parent
SHARED = REPO.parent / "shared"
sys.path.insert(0, str(TRAINING))
torch.set_num_threads(2)

from msta.config import AdapterConfig, backbone_preset  # noqa: E402


@pytest.fixture
def tiny_cfg():
    """A toy ViCLIP-family backbone small enough for unit tests."""
    return backbone_preset("viclip-tiny", frames=4, image_size=32, patch_size=16, vision_width=32,
                           vision_layers=3, vision_heads=2, text_width=32, text_layers=3, text_heads=2,
                           context_length=8, vocab_size=600, embed_dim=16, tubelet=1)


@pytest.fixture
def tiny_adapters():
    return AdapterConfig(dim=8, first_layer=2, last_layer=3)
