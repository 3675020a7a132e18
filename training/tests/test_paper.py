"""The paper-table experiment's pieces: the held-out corpus, the reversed-time labels, the
shuffled control, in-memory clips, MMA init and gradient scale, the methods, the bootstrap."""
import numpy as np
import pytest
import torch

from msta import synth
from msta.adapters import MSTA, gradient_scale
from msta.config import AdapterConfig
from msta.model import MSTAModel
from msta.paper import stats, world
from msta.paper.fit import FitConfig, fit, linear_probe, predict, probe_predict, with_method
from msta.paper.run import select


def test_pretraining_corpus_never_names_a_target_composition():
    concepts = world.source_concepts()
    assert not {(c, "ball", m) for c in ("red", "blue") for m in synth.MOTIONS} & set(concepts)
    text = "\n".join(world.corpus())
    for colour in ("red", "blue"):
        for word in ("ball", "circle"):
            assert f"{colour} {word}" not in text and f"{colour} round" not in text
        assert f"{colour} square" in text  # the colour is known, on squares
    for motion in synth.LABEL_MOTIONS:
        assert f"green ball {motion}" in text  # the motion is known, on other colours
    # description-style sentences for the source concepts use the targets' description vocabulary
    assert "the green ball slides from the right side to the left side" in text


def test_reversed_time_swaps_direction_and_size_only():
    assert world.reversed_label("red ball moving left") == "red ball moving right"
    assert world.reversed_label("blue ball moving up") == "blue ball moving down"
    assert world.reversed_label("blue ball growing") == "blue ball shrinking"
    assert world.reversed_label("red ball blinking") == "red ball blinking"
    assert world.reversed_label(synth.IDLE) == synth.IDLE
    assert sorted(world.reversed_label(c) for c in world.TARGETS) == sorted(world.TARGETS)


def test_shuffled_descriptions_give_every_class_another_class_s():
    own = world.descriptions(world.BASE)
    shuffled = world.descriptions(world.BASE, shuffle_seed=3)
    assert sorted(map(str, shuffled.values())) == sorted(map(str, own.values()))
    assert all(shuffled[c] != own[c] for c in world.BASE)
    assert world.descriptions(world.BASE, shuffle_seed=3) == shuffled


def test_val_split_lies_inside_the_base_labels():
    assert set(world.VAL_BASE) | set(world.VAL_NOVEL) == set(world.BASE)
    assert not set(world.VAL_BASE) & set(world.VAL_NOVEL)


def test_in_memory_clips_are_seeded_and_time_ordered():
    a, ya = world.render_set(("red ball moving right", synth.IDLE), 2, 5, 32, 4, windows=2)
    b, _ = world.render_set(("red ball moving right", synth.IDLE), 2, 5, 32, 4, windows=2)
    assert a.shape == (4, 2, 4, 32, 32, 3) and a.dtype == np.uint8 and ya.tolist() == [0, 0, 1, 1]
    assert np.array_equal(a, b)
    # the red ball's centre of mass moves right over the window
    red = (a[0, 0, ..., 0].astype(int) - a[0, 0, ..., 2].astype(int)) > 80
    xs = [np.nonzero(f)[1].mean() for f in red]
    assert xs[-1] > xs[0]


def test_mma_init_is_kaiming_fan_out(tiny_cfg):
    torch.manual_seed(0)
    a = MSTA(tiny_cfg, AdapterConfig(dim=8, first_layer=1, last_layer=3))
    for lin in (a.vision["0"].down, a.text["1"].up, a.shared["2"]):
        fan_out = lin.weight.shape[0]
        assert lin.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.3)
        assert torch.count_nonzero(lin.bias) == 0
    down = a.vision["0"].down.weight  # fan_out 8, not fan_in 32
    assert down.std().item() > 1.5 * (2 / 32) ** 0.5


def test_gradient_scale_keeps_the_forward_pass_and_rescales_adapter_gradients(tiny_cfg):
    x = torch.randn(3, requires_grad=True)
    y = gradient_scale(x, 0.25)
    assert torch.equal(y, x)
    y.sum().backward()
    assert torch.allclose(x.grad, torch.full((3,), 0.25))

    def grads(flag: bool):
        torch.manual_seed(0)
        model = MSTAModel(tiny_cfg, AdapterConfig(dim=8, first_layer=2, last_layer=3, scale=0.01, gradient_scale=flag))
        frames = torch.randint(0, 256, (2, tiny_cfg.frames, tiny_cfg.image_size, tiny_cfg.image_size, 3), dtype=torch.uint8,
                               generator=torch.Generator().manual_seed(1))
        out = model.encode_video(frames)
        out.sum().backward()
        a = model.adapters
        return out.detach(), a.vision["2"].up.weight.grad.clone(), a.vision["1"].up.weight.grad.clone()

    out0, g_last0, g_first0 = grads(False)
    out1, g_last1, g_first1 = grads(True)
    assert torch.allclose(out0, out1, atol=1e-6)
    # the last adapter's weights see 1 / lambda times the gradient; the earlier one too, since the
    # gradient reaching the residual stream through the later adapter is unchanged
    assert torch.allclose(g_last1, g_last0 / 0.01, rtol=1e-3, atol=1e-6)
    assert torch.allclose(g_first1, g_first0 / 0.01, rtol=1e-2, atol=1e-5)


def test_without_temporal_conv_the_vision_adapter_has_no_conv(tiny_cfg):
    cfg = AdapterConfig(dim=8, first_layer=2, last_layer=3, temporal=False)
    a = MSTA(tiny_cfg, cfg)
    assert not any("temporal" in name for name, _ in a.named_parameters())
    with_conv = MSTA(tiny_cfg, AdapterConfig(dim=8, first_layer=2, last_layer=3))
    per_layer = tiny_cfg.vision_width * 3 + tiny_cfg.vision_width
    assert sum(p.numel() for p in with_conv.parameters()) - sum(p.numel() for p in a.parameters()) == 2 * per_layer


def _tiny_task(cfg, n=8):
    g = torch.Generator().manual_seed(0)
    clips = torch.randint(0, 256, (n, 2, cfg.frames, cfg.image_size, cfg.image_size, 3), generator=g, dtype=torch.uint8)
    ys = np.arange(n) % 2
    ids = torch.zeros(2, cfg.context_length, dtype=torch.int64)
    ids[:, 0], ids[0, 1], ids[1, 1], ids[:, 2] = cfg.vocab_size - 2, 5, 6, cfg.vocab_size - 1
    return clips.numpy(), ys, ids


@pytest.mark.parametrize("method", ["msta", "msta-no-temporal", "text-only", "vision-only", "full"])
def test_each_method_trains_only_its_own_parameters(tiny_cfg, method):
    torch.manual_seed(0)
    bare = MSTAModel(tiny_cfg, None)
    clips, ys, ids = _tiny_task(tiny_cfg)
    cfg = FitConfig(epochs=2, batch=4, warmup_epochs=1, adapter=AdapterConfig(dim=8, first_layer=2, last_layer=3, scale=0.5))
    model = with_method(bare, method, cfg)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    cc = (torch.randn(2, tiny_cfg.embed_dim), torch.randn(2, tiny_cfg.embed_dim))
    result = fit(model, method, ids, clips, ys, cfg, seed=0, cc_targets=cc, on_epoch=lambda e, m: e, every=1)
    assert result.curve == [(1, 1), (2, 2)] and result.seconds_per_epoch > 0
    changed = {k for k, v in model.state_dict().items() if not torch.equal(v, before[k])}
    backbone_changed = {k for k in changed if k.startswith("backbone.")}
    assert bool(backbone_changed) == (method == "full")
    assert "backbone.logit_scale" not in changed
    if method == "text-only":
        assert not any(k.startswith("adapters.vision") for k in changed) and any(k.startswith("adapters.text") for k in changed)
    if method == "vision-only":
        assert not any(k.startswith("adapters.text") for k in changed) and any(k.startswith("adapters.vision") for k in changed)
    # the bare backbone itself is never touched
    assert all(not p.requires_grad for p in bare.parameters())
    assert predict(model, ids, clips[:, 0]).shape == (len(clips),)


def test_linear_probe_fits_separable_features():
    feats = torch.nn.functional.normalize(torch.tensor([[1.0, 0.1], [0.9, -0.1], [-1.0, 0.2], [-0.8, 0.0]]), dim=-1)
    head = linear_probe(feats, np.array([0, 0, 1, 1]), 2, seed=0, steps=100)
    assert probe_predict(head, feats).tolist() == [0, 0, 1, 1]


def test_bootstrap_intervals():
    rng = np.random.default_rng(0)
    a = rng.random((5, 200)) < 0.7
    same = stats.paired_gain(a, a)
    assert same["mean"] == 0 and same["ci"] == (0.0, 0.0)
    better = stats.paired_gain(np.ones((5, 200)), np.zeros(200))
    assert better["mean"] == 1 and better["ci"] == (1.0, 1.0)
    acc = stats.accuracy(a)
    assert acc["ci"][0] < acc["mean"] < acc["ci"][1] and acc["ci"][1] - acc["ci"][0] < 0.1
    bn = stats.base_novel(np.ones((2, 10)), np.zeros((2, 10)) + (np.arange(10) < 5))
    assert bn["hm"]["mean"] == pytest.approx(2 * 0.5 / 1.5)
    g = stats.hm_gain(np.ones((2, 10)), np.ones((2, 10)), np.ones((2, 10)), np.zeros((2, 10)) + (np.arange(10) < 5))
    assert g["mean"] == pytest.approx(1 - 2 * 0.5 / 1.5) and g["ci"][0] > 0


def test_selection_prefers_settings_where_no_l_cc_costs_novel_accuracy():
    def run(curve):
        return {"curve": curve}
    val = {}
    for lam in (0.005, 0.05, 0.5):
        good = lam == 0.05
        val[(lam, 1.0)] = run([(5, {"base": 0.9, "novel": 0.6}), (10, {"base": 0.95 if lam == 0.5 else 0.9, "novel": 0.6})])
        val[(lam, 0.0)] = run([(5, {"base": 0.9, "novel": 0.3 if good else 0.6}), (10, {"base": 0.9, "novel": 0.6})])
    chosen = select(val, {"base": 0.5, "novel": 0.5})
    assert (chosen["lambda"], chosen["epochs"], chosen["rule"]) == (0.05, 5, "costs-novel")
    for lam in (0.005, 0.05, 0.5):
        val[(lam, 0.0)] = run([(5, {"base": 0.9, "novel": 0.9}), (10, {"base": 0.9, "novel": 0.9})])
    chosen = select(val, {"base": 0.5, "novel": 0.5})
    assert (chosen["lambda"], chosen["epochs"], chosen["rule"]) == (0.5, 10, "best-hm")
