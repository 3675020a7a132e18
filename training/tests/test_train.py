"""Training: the loss goes down, checkpoints resume to the same result as an unbroken run,
evaluation reports top-1, and bad inputs are refused."""
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from msta import synth
from msta.data import Clip
from msta.model import MSTAModel
from msta.tokenizer import Tokenizer, learn_merges, write_merges
from msta.checkpoint import save_checkpoint
from msta.train import TrainConfig, evaluate, lr_lambda, train, warmup_epochs, with_adapters

LABELS = ["red ball moving left", "red ball moving right", "nothing happening"]


def clips_for(size: int, per_class: int, seed: int) -> list[Clip]:
    rng = np.random.default_rng(seed)
    out = []
    for label in LABELS:
        for _ in range(per_class):
            scene = synth.scene_for_label(rng, label, 1.2)
            frames = np.stack([synth.render(scene, i / 25, size, size, synth.centre_window(), rng) for i in range(30)])
            out.append(Clip(Path(f"{label}.mp4"), label, frames, 25.0))
    return out


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("train")
    vocab = tmp / "v.txt.gz"
    write_merges(vocab, learn_merges(synth.corpus(), 300))
    return Tokenizer(vocab), vocab.read_bytes()


def model_for(tiny_cfg, tiny_adapters, tok):
    torch.manual_seed(0)
    return MSTAModel(replace(tiny_cfg, vocab_size=tok.vocab_size, context_length=12),
                     replace(tiny_adapters, scale=0.5))


def run(model, tok, vocab_gz, clips, out, epochs):
    cfg = TrainConfig(epochs=epochs, batch=4, warmup_epochs=1, alpha=1.0, frame_interval_ms=160)
    return train(model, tok, vocab_gz, clips, LABELS, synth.descriptions(tuple(LABELS)), cfg, out, {"name": "t"},
                 log=lambda _: None)


class Interrupted(Exception):
    pass


def test_resume_continues_exactly(tmp_path, tiny_cfg, tiny_adapters, setup):
    tok, vocab_gz = setup
    clips = clips_for(32, 2, 0)
    straight = run(model_for(tiny_cfg, tiny_adapters, tok), tok, vocab_gz, clips, tmp_path / "a", epochs=3)

    def crash_after_epoch_2(line):
        if line.startswith("epoch 2/"):
            raise Interrupted  # after epoch 2's checkpoint was written

    cfg = TrainConfig(epochs=3, batch=4, warmup_epochs=1, alpha=1.0, frame_interval_ms=160)
    with pytest.raises(Interrupted):
        train(model_for(tiny_cfg, tiny_adapters, tok), tok, vocab_gz, clips, LABELS, synth.descriptions(tuple(LABELS)),
              cfg, tmp_path / "b", {"name": "t"}, log=crash_after_epoch_2)
    logs = []
    resumed = train(model_for(tiny_cfg, tiny_adapters, tok), tok, vocab_gz, clips, LABELS,
                    synth.descriptions(tuple(LABELS)), cfg, tmp_path / "b", {"name": "t"}, resume=True, log=logs.append)
    assert logs[0].startswith("resumed from") and logs[1].startswith("epoch 3/3")
    for (k, a), (_, b) in zip(straight.adapters.state_dict().items(), resumed.adapters.state_dict().items()):
        assert torch.allclose(a, b, atol=1e-6), k


def test_training_fits_the_training_clips(tmp_path, tiny_cfg, tiny_adapters, setup):
    tok, vocab_gz = setup
    clips = clips_for(32, 3, 1)
    model = model_for(tiny_cfg, tiny_adapters, tok)
    before, _ = evaluate(model, tok, clips, LABELS, 160)
    logs = []
    # 150 epochs: at 60, L_CC towards the descriptions of a random text tower (where "going left"
    # and "going right" are nearly one point) left the fit at 4 of these 9 clips.
    cfg = TrainConfig(epochs=150, batch=9, warmup_epochs=2, lr=1e-2, alpha=1.0, frame_interval_ms=160)
    train(model, tok, vocab_gz, clips, LABELS, synth.descriptions(tuple(LABELS)), cfg, tmp_path, {"name": "t"},
          log=logs.append)
    after, confusion = evaluate(model, tok, clips, LABELS, 160)
    first, last = float(logs[0].split("loss ")[1].split()[0]), float(logs[-1].split("loss ")[1].split()[0])
    assert last < first
    print(f"top-1 on the training clips: {before:.3f} before, {after:.3f} after")
    assert after > before and after >= 2 / 3
    assert confusion.sum() == len(clips)


def test_bad_training_inputs_are_refused(tmp_path, tiny_cfg, tiny_adapters, setup):
    tok, vocab_gz = setup
    model = model_for(tiny_cfg, tiny_adapters, tok)
    clips = clips_for(32, 1, 2)
    cfg = TrainConfig(epochs=1)
    with pytest.raises(ValueError, match="the label set is empty"):
        train(model, tok, vocab_gz, clips, [], None, cfg, tmp_path, {})
    with pytest.raises(ValueError, match="outside the label set: red ball moving right"):
        train(model, tok, vocab_gz, clips, ["red ball moving left", "nothing happening"], None, replace(cfg, alpha=0), tmp_path, {})
    with pytest.raises(ValueError, match="needs class descriptions"):
        train(model, tok, vocab_gz, clips, LABELS, None, cfg, tmp_path, {})
    with pytest.raises(ValueError, match="frames: expected"):
        evaluate(MSTAModel(replace(tiny_cfg, frames=8, vocab_size=tok.vocab_size, context_length=12), None),
                 tok, [Clip(Path("x"), LABELS[0], np.zeros((10, 16, 16, 3), np.uint8), 25.0)], LABELS, 160)


def test_the_best_validated_epoch_is_kept(tmp_path, tiny_cfg, tiny_adapters, setup):
    from msta.checkpoint import load_checkpoint
    tok, vocab_gz = setup
    clips = clips_for(32, 1, 3)
    scores = iter([0.5, 0.7, 0.6])
    snapshots = {}

    def validate(m):
        top1 = next(scores)
        snapshots[top1] = {k: v.clone() for k, v in m.adapters.state_dict().items()}
        return top1
    logs = []
    cfg = TrainConfig(epochs=3, batch=3, warmup_epochs=1, alpha=1.0, frame_interval_ms=160)
    train(model_for(tiny_cfg, tiny_adapters, tok), tok, vocab_gz, clips, LABELS, synth.descriptions(tuple(LABELS)), cfg,
          tmp_path, {"name": "t"}, log=logs.append, validate=validate, val_every=1)
    best, blob = load_checkpoint(tmp_path / "best.pt")
    assert (blob["meta"]["best_epoch"], blob["meta"]["val_top1"]) == (2, 0.7)
    for k, v in best.adapters.state_dict().items():
        assert torch.equal(v, snapshots[0.7][k]), k
    assert logs[1].endswith("validation top-1 0.7000 (best so far)") and logs[2].endswith("validation top-1 0.6000")


def test_fresh_adapters_are_the_same_for_the_same_seed(tmp_path, tiny_cfg, tiny_adapters, setup):
    """make-bundle and train start from with_adapters: its init is seeded, so a regeneration repeats."""
    tok, vocab_gz = setup
    ckpt = tmp_path / "backbone.pt"
    save_checkpoint(ckpt, model_for(tiny_cfg, tiny_adapters, tok), {"name": "b"}, vocab_gz)

    def adapters(seed):
        torch.rand(seed + 1)  # whatever ran before must not matter
        return with_adapters(ckpt, tiny_adapters, seed)[0].adapters.state_dict()
    a, b, c = adapters(0), adapters(0), adapters(1)
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert any(not torch.equal(a[k], c[k]) for k in a)


def test_the_warm_up_ends_before_the_training_does():
    """A short run (2 epochs, the default warm-up of 5) used to train at a fraction of --lr throughout."""
    steps = 3
    short = lr_lambda(TrainConfig(epochs=2, warmup_epochs=5), steps)
    rates = [short(step) for step in range(2 * steps)]
    assert rates[steps - 1] == 1.0 and rates[-1] < rates[steps]
    assert warmup_epochs(TrainConfig(epochs=2, warmup_epochs=5)) == 1
    assert warmup_epochs(TrainConfig(epochs=50, warmup_epochs=5)) == 5
    assert warmup_epochs(TrainConfig(epochs=1, warmup_epochs=5)) == 0
    assert lr_lambda(TrainConfig(epochs=1, warmup_epochs=5), steps)(0) == 1.0
