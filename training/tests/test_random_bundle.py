"""The benchmark bundle's random weights travel under ViCLIP's published key names and load through
the same strict mapping as real weights."""
import math

import torch

from msta.checkpoint import load_backbone_weights
from msta.model import MSTAModel
from msta.random_bundle import random_viclip_state


def test_random_state_uses_published_keys_and_loads_strictly(tiny_cfg, tiny_adapters):
    state = random_viclip_state(tiny_cfg, seed=3)
    assert "temp" in state and all(k == "temp" or k.startswith(("vision_encoder.", "text_encoder.")) for k in state)
    model = MSTAModel(tiny_cfg, tiny_adapters)
    load_backbone_weights(model, state, "viclip")
    assert torch.equal(model.backbone.vision.proj, state["vision_encoder.proj"])
    assert math.isclose(model.logit_scale(), 100.0, rel_tol=1e-5)


def test_random_state_is_seeded(tiny_cfg):
    a, b, c = (random_viclip_state(tiny_cfg, seed=s)["vision_encoder.proj"] for s in (1, 1, 2))
    assert torch.equal(a, b) and not torch.equal(a, c)
