"""Published backbones' state dicts, generated here under their published key names and shapes
(OpenAI CLIP ViT-B/16 as in its released archive; ViCLIP-B/16 as in InternVid's ViCLIP), load
into our model with every tensor landing where it belongs; a missing key is named."""
import math

import pytest
import torch

from msta.checkpoint import CheckpointError, load_backbone_weights, load_checkpoint, save_checkpoint
from msta.config import AdapterConfig, backbone_preset
from msta.model import MSTAModel


def resblocks(prefix: str, width: int, layers: int) -> dict[str, tuple[int, ...]]:
    shapes = {}
    for i in range(layers):
        p = f"{prefix}transformer.resblocks.{i}."
        shapes.update({
            p + "attn.in_proj_weight": (3 * width, width), p + "attn.in_proj_bias": (3 * width,),
            p + "attn.out_proj.weight": (width, width), p + "attn.out_proj.bias": (width,),
            p + "ln_1.weight": (width,), p + "ln_1.bias": (width,),
            p + "mlp.c_fc.weight": (4 * width, width), p + "mlp.c_fc.bias": (4 * width,),
            p + "mlp.c_proj.weight": (width, 4 * width), p + "mlp.c_proj.bias": (width,),
            p + "ln_2.weight": (width,), p + "ln_2.bias": (width,),
        })
    return shapes


def openai_clip_b16_shapes() -> dict[str, tuple[int, ...]]:
    s = {
        "visual.class_embedding": (768,), "visual.positional_embedding": (197, 768),
        "visual.proj": (768, 512), "visual.conv1.weight": (768, 3, 16, 16),
        "visual.ln_pre.weight": (768,), "visual.ln_pre.bias": (768,),
        "visual.ln_post.weight": (768,), "visual.ln_post.bias": (768,),
        "positional_embedding": (77, 512), "text_projection": (512, 512), "logit_scale": (),
        "token_embedding.weight": (49408, 512), "ln_final.weight": (512,), "ln_final.bias": (512,),
    }
    s.update(resblocks("visual.", 768, 12))
    s.update(resblocks("", 512, 12))
    return s


def viclip_b16_shapes() -> dict[str, tuple[int, ...]]:
    v, t = "vision_encoder.", "text_encoder."
    s = {
        v + "class_embedding": (768,), v + "positional_embedding": (197, 768),
        v + "temporal_positional_embedding": (1, 8, 768), v + "conv1.weight": (768, 3, 1, 16, 16),
        v + "ln_pre.weight": (768,), v + "ln_pre.bias": (768,),
        v + "ln_post.weight": (768,), v + "ln_post.bias": (768,), v + "proj": (768, 512),
        t + "positional_embedding": (32, 512), t + "text_projection": (512, 512),
        t + "token_embedding.weight": (49408, 512), t + "ln_final.weight": (512,), t + "ln_final.bias": (512,),
        "temp": (),
    }
    s.update(resblocks(v, 768, 12))
    s.update(resblocks(t, 512, 12))
    return s


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
