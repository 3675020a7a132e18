"""Shapes, where adapters sit, the shared projection, the frozen backbone, L_CC by hand."""
from dataclasses import replace

import pytest
import torch

from msta.adapters import MSTA, conv_over_frames
from msta.backbones import Attention
from msta.config import AdapterConfig
from msta.losses import consistency_loss
from msta.model import MSTAModel, count_parameters


def frames_for(cfg, batch=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randint(0, 256, (batch, cfg.frames, cfg.image_size, cfg.image_size, 3), generator=g, dtype=torch.uint8)


def ids_for(cfg, n=3):
    ids = torch.zeros(n, cfg.context_length, dtype=torch.int64)
    ids[:, 0] = cfg.vocab_size - 2
    ids[:, 1:4] = torch.arange(1, 4) + torch.arange(n)[:, None]
    ids[:, 4] = cfg.vocab_size - 1
    return ids


@pytest.mark.parametrize("joint,tubelet", [(True, 1), (True, 2), (False, 1)])
def test_shapes_and_unit_norm(tiny_cfg, tiny_adapters, joint, tubelet):
    cfg = replace(tiny_cfg, joint_space_time=joint, tubelet=tubelet)
    model = MSTAModel(cfg, tiny_adapters)
    v = model.encode_video(frames_for(cfg, batch=3))
    t = model.encode_text(ids_for(cfg, n=5))
    assert v.shape == (3, cfg.embed_dim) and t.shape == (5, cfg.embed_dim)
    assert torch.allclose(v.norm(dim=-1), torch.ones(3), atol=1e-5)
    assert torch.allclose(t.norm(dim=-1), torch.ones(5), atol=1e-5)


def test_adapters_only_on_configured_layers(tiny_cfg):
    model = MSTAModel(tiny_cfg, AdapterConfig(dim=8, first_layer=2, last_layer=3))
    a = model.adapters
    assert sorted(a.shared) == sorted(a.vision) == sorted(a.text) == ["1", "2"]  # 0-based layers 2..3
    assert sorted(a.vision_adapters(tiny_cfg.frames)) == sorted(a.text_adapters()) == [1, 2]
    # scaling layer 2's vision up-projection changes the video embedding
    frames = frames_for(tiny_cfg)
    before = model.encode_video(frames)
    with torch.no_grad():
        a.vision["1"].up.weight.mul_(1000)
    assert not torch.allclose(before, model.encode_video(frames))
    assert all(name.split(".")[1] in ("1", "2") for name, _ in a.named_parameters())


def test_shared_projection_is_one_parameter_with_gradients_from_both_branches(tiny_cfg, tiny_adapters):
    model = MSTAModel(tiny_cfg, tiny_adapters)
    shared = model.adapters.shared["2"].weight
    ids = [id(p) for p in model.parameters()]
    assert ids.count(id(shared)) == 1

    def grad_of(loss):
        model.zero_grad(set_to_none=True)
        loss.backward()
        return None if shared.grad is None else shared.grad.clone()

    g_video = grad_of(model.encode_video(frames_for(tiny_cfg)).sum() * 1e3)
    g_text = grad_of(model.encode_text(ids_for(tiny_cfg)).sum() * 1e3)
    assert g_video is not None and g_video.abs().sum() > 0
    assert g_text is not None and g_text.abs().sum() > 0
    g_both = grad_of((model.encode_video(frames_for(tiny_cfg)).sum() + model.encode_text(ids_for(tiny_cfg)).sum()) * 1e3)
    assert torch.allclose(g_both, g_video + g_text, rtol=1e-4, atol=1e-9)


def test_backbone_is_frozen(tiny_cfg, tiny_adapters):
    model = MSTAModel(tiny_cfg, tiny_adapters)
    assert all(not p.requires_grad for p in model.backbone.parameters())
    loss = model.encode_video(frames_for(tiny_cfg)).sum() + model.encode_text(ids_for(tiny_cfg)).sum()
    loss.backward()
    assert all(p.grad is None for p in model.backbone.parameters())
    assert all(p.grad is not None for p in model.adapters.parameters())
    total, trainable = count_parameters(model)
    assert trainable == sum(p.numel() for p in model.adapters.parameters()) < total


def test_frozen_text_branch_ignores_adapters(tiny_cfg, tiny_adapters):
    model = MSTAModel(tiny_cfg, tiny_adapters)
    ids = ids_for(tiny_cfg)
    plain = MSTAModel(tiny_cfg, None)
    plain.backbone.load_state_dict(model.backbone.state_dict())
    assert torch.allclose(model.encode_text(ids, adapted=False), plain.encode_text(ids), atol=1e-6)


def test_consistency_loss_by_hand():
    w = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    ds = torch.tensor([[1.0, 1.0], [0.0, 5.0]])  # cos 1/sqrt(2), 1
    dt = torch.tensor([[-1.0, 0.0], [3.0, 0.0]])  # cos -1, 0
    expected = ((2 - 0.5**0.5 - (-1.0)) + (2 - 1.0 - 0.0)) / 2
    assert consistency_loss(w, ds, dt).item() == pytest.approx(expected, abs=1e-6)
    assert consistency_loss(w, w, w).item() == pytest.approx(0.0, abs=1e-6)


def test_vision_adapter_temporal_conv_sees_frame_order(tiny_cfg, tiny_adapters):
    """The temporal part mixes neighbouring frames: the same frames reversed embed differently."""
    model = MSTAModel(tiny_cfg, AdapterConfig(dim=8, first_layer=1, last_layer=3, scale=1.0))
    with torch.no_grad():
        model.backbone.vision.temporal_positional_embedding.zero_()
    frames = frames_for(tiny_cfg, batch=1)
    assert not torch.allclose(model.encode_video(frames), model.encode_video(frames.flip(1)), atol=1e-4)
    no_temporal = MSTAModel(tiny_cfg, AdapterConfig(dim=8, first_layer=1, last_layer=3, scale=1.0))
    no_temporal.load_state_dict(model.state_dict())
    with torch.no_grad():
        for a in no_temporal.adapters.vision.values():
            a.temporal.weight.zero_()
            a.temporal.bias.zero_()
    # without temporal parts (and no temporal positions) joint attention is blind to frame order
    assert torch.allclose(no_temporal.encode_video(frames), no_temporal.encode_video(frames.flip(1)), atol=1e-5)


def test_temporal_conv_over_frames_is_the_conv1d():
    conv = torch.nn.Conv1d(6, 6, 3, padding=1, groups=6)
    seq = torch.randn(5, 6, 8)
    assert torch.allclose(conv_over_frames(conv, seq), conv(seq), atol=1e-6)


def test_attention_is_torchs_multihead_attention():
    """Scaled on Q rather than on the scores: the same function as nn.MultiheadAttention's."""
    torch.manual_seed(0)
    ours, theirs = Attention(16, 4), torch.nn.MultiheadAttention(16, 4, batch_first=True)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 7, 16)
    mask = torch.full((7, 7), float("-inf")).triu(1)
    assert torch.allclose(ours(x), theirs(x, x, x, need_weights=False)[0], atol=1e-5)
    assert torch.allclose(ours(x, mask), theirs(x, x, x, attn_mask=mask, need_weights=False)[0], atol=1e-5)


def test_bad_inputs_give_clear_errors(tiny_cfg, tiny_adapters):
    model = MSTAModel(tiny_cfg, tiny_adapters)
    wrong_t = torch.zeros(1, tiny_cfg.frames + 1, tiny_cfg.image_size, tiny_cfg.image_size, 3, dtype=torch.uint8)
    with pytest.raises(ValueError, match=rf"expected \[B, {tiny_cfg.frames}, 32, 32, 3\], got \[1, {tiny_cfg.frames + 1}, 32, 32, 3\]"):
        model.encode_video(wrong_t)
    with pytest.raises(ValueError, match="input_ids: expected"):
        model.encode_text(torch.zeros(2, tiny_cfg.context_length + 1, dtype=torch.int64))
    with pytest.raises(ValueError, match="the backbone has 3 layers"):
        MSTA(tiny_cfg, AdapterConfig(dim=8, first_layer=2, last_layer=4))
