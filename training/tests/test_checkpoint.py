"""Published backbones' state dicts, generated here under their published key names and shapes
(OpenAI CLIP ViT-B/16 and ViT-L/14 as in the released archives; ViCLIP-B/16 and ViCLIP-L/14 as in
InternVid's ViCLIP), load into our model with every tensor landing where it belongs; a missing
key is named."""
import math

import pytest
import torch

from msta.checkpoint import CheckpointError, load_backbone_weights, load_checkpoint, save_checkpoint
from msta.config import AdapterConfig, backbone_preset
from msta.model import MSTAModel
from published_shapes import B16, L14, indexed, openai_clip_shapes, viclip_shapes


def openai_clip_b16_shapes() -> dict[str, tuple[int, ...]]:
    return openai_clip_shapes(B16)


def viclip_b16_shapes() -> dict[str, tuple[int, ...]]:
    return viclip_shapes(B16)


def generate(shapes: dict[str, tuple[int, ...]]) -> dict[str, torch.Tensor]:
    """Each tensor filled with its own key's index, so a mix-up shows."""
    return {k: torch.full(shape, float(i)) for i, (k, shape) in enumerate(shapes.items())}


@pytest.fixture(scope="module")
def clip_state():
    state = generate(openai_clip_b16_shapes())
    state["logit_scale"] = torch.tensor(math.log(100.0))
    # the released archive carries these bookkeeping ints too
    state.update(input_resolution=torch.tensor(224), context_length=torch.tensor(77), vocab_size=torch.tensor(49408))
    return state


def test_openai_clip_b16_loads_by_key_name(clip_state):
    model = MSTAModel(backbone_preset("clip-vit-b16"), AdapterConfig(128, 8, 12))
    load_backbone_weights(model, clip_state, "openai-clip")
    keys = list(openai_clip_b16_shapes())
    b = model.backbone
    assert b.vision.transformer.resblocks[11].mlp.c_fc.bias[0] == keys.index("visual.transformer.resblocks.11.mlp.c_fc.bias")
    assert b.text.transformer.resblocks[3].attn.in_proj_weight[0, 0] == keys.index("transformer.resblocks.3.attn.in_proj_weight")
    assert b.text.token_embedding.weight[5, 5] == keys.index("token_embedding.weight")
    assert b.vision.conv1.weight[0, 0, 0, 0] == keys.index("visual.conv1.weight")
    assert model.logit_scale() == pytest.approx(100.0, rel=1e-5)
    assert all(not p.requires_grad for p in b.parameters())


def test_viclip_b16_loads_by_key_name():
    shapes = viclip_b16_shapes()
    state = generate(shapes)
    state["temp"] = torch.tensor(0.01)
    model = MSTAModel(backbone_preset("viclip-b16"), AdapterConfig(256, 1, 12))
    load_backbone_weights(model, state, "viclip")
    keys = list(shapes)
    b = model.backbone
    assert b.vision.temporal_positional_embedding[0, 7, 0] == keys.index("vision_encoder.temporal_positional_embedding")
    assert b.vision.proj[0, 0] == keys.index("vision_encoder.proj")
    assert b.text.transformer.resblocks[0].ln_2.weight[0] == keys.index("text_encoder.transformer.resblocks.0.ln_2.weight")
    assert model.logit_scale() == pytest.approx(100.0, rel=1e-5)


def test_missing_and_misshapen_keys_are_named(clip_state):
    model = MSTAModel(backbone_preset("clip-vit-b16"), None)
    state = dict(clip_state)
    del state["visual.transformer.resblocks.4.ln_1.bias"]
    state["ln_final.weight"] = torch.zeros(7)
    with pytest.raises(CheckpointError) as err:
        load_backbone_weights(model, state, "openai-clip")
    assert "missing keys: vision.transformer.resblocks.4.ln_1.bias" in str(err.value)
    assert "text.ln_final.weight: expected [512], got [7]" in str(err.value)
    viclip = generate(viclip_b16_shapes())
    del viclip["temp"]
    with pytest.raises(CheckpointError, match="missing keys: temp"):
        load_backbone_weights(MSTAModel(backbone_preset("viclip-b16"), None), viclip, "viclip")


def test_training_checkpoint_round_trip_and_errors(tmp_path, tiny_cfg, tiny_adapters):
    model = MSTAModel(tiny_cfg, tiny_adapters)
    path = tmp_path / "c.pt"
    save_checkpoint(path, model, {"labels": ["a"]}, b"vocab")
    loaded, blob = load_checkpoint(path)
    for (k, a), (_, b) in zip(model.state_dict().items(), loaded.state_dict().items()):
        assert torch.equal(a, b), k
    assert blob["meta"]["labels"] == ["a"] and blob["vocab_gz"] == b"vocab"
    with pytest.raises(CheckpointError, match="checkpoint not found"):
        load_checkpoint(tmp_path / "nope.pt")
    blob = torch.load(path)
    del blob["adapters"]["shared.1.weight"]
    torch.save(blob, tmp_path / "broken.pt")
    with pytest.raises(CheckpointError, match=r"missing keys: shared\.1\.weight"):
        load_checkpoint(tmp_path / "broken.pt")


@pytest.mark.parametrize("preset,kind,shapes", [
    ("viclip-l14", "viclip", viclip_shapes(L14)),
    ("clip-vit-l14", "openai-clip", openai_clip_shapes(L14)),
])
def test_l14_presets_load_full_size_state_dicts(preset, kind, shapes):
    """ViClip-InternVid-10M-FLT.pth is ViCLIP-L/14: width 1024, 24 layers, patch 14, embedding 768."""
    state = indexed(shapes)
    state["temp" if kind == "viclip" else "logit_scale"] = torch.tensor(0.01 if kind == "viclip" else math.log(100.0))
    if kind == "viclip":  # the published file wraps the weights as {"model": ...}
        state = {"model": state}
    model = MSTAModel(backbone_preset(preset), AdapterConfig(128, 8, 12) if kind == "viclip" else None)
    load_backbone_weights(model, state, kind)
    keys = list(shapes)
    b = model.backbone
    v = "vision_encoder." if kind == "viclip" else "visual."
    t = "text_encoder." if kind == "viclip" else ""
    assert b.vision.transformer.resblocks[23].attn.out_proj.weight[0, 0] == keys.index(v + "transformer.resblocks.23.attn.out_proj.weight")
    assert b.vision.conv1.weight.shape[-1] == 14 and b.vision.positional_embedding.shape == (257, 1024)
    assert b.vision.proj[0, 0] == keys.index(v + "proj") and b.vision.proj.shape == (1024, 768)
    assert b.text.transformer.resblocks[11].mlp.c_proj.bias[0] == keys.index(t + "transformer.resblocks.11.mlp.c_proj.bias")
    assert b.text.text_projection.shape == (768, 768)
    assert model.logit_scale() == pytest.approx(100.0, rel=1e-5)
    # the text tower runs at full size (the vision tower at 8 x 224 x 224 is too slow for a test)
    ids = torch.zeros(2, model.cfg.context_length, dtype=torch.int64)
    ids[:, 0], ids[:, 1:3], ids[:, 3] = 49406, 320, 49407
    with torch.no_grad():
        assert model.encode_text(ids).shape == (2, 768)


def test_b16_state_dict_is_refused_by_an_l14_preset():
    model = MSTAModel(backbone_preset("viclip-l14"), None)
    state = indexed(viclip_shapes(B16))
    state["temp"] = torch.tensor(0.01)
    with pytest.raises(CheckpointError, match=r"vision\.proj: expected \[1024, 768\], got \[768, 512\]"):
        load_backbone_weights(model, state, "viclip")
