"""evaluate: multi-view testing (temporal windows x crops, probabilities averaged), top-1 / top-5,
per class and confusion pairs; the committed bundle through onnxruntime-node. (A bare backbone
against its zero-shot bundle: test_zero_shot.py.)"""
import json
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO
from msta import synth
from msta.cli import main
from msta.data import Clip
from msta.evaluation import Encoders, evaluate_clips, views, window_starts
from onnx_runtime import need_ort

BUNDLE = REPO / "models" / "synthetic-actions"


def test_views_are_windows_times_crops():
    frames = np.zeros((50, 64, 85, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(50)[:, None, None]  # frame index in red
    frames[:, :, :, 1] = np.arange(85)[None, None, :]  # column in green
    clip = Clip(Path("x"), "a", frames, 25.0)
    v = views(clip, 4, 64, 160, n_clips=2, n_crops=3)
    assert v.shape == (6, 4, 64, 64, 3)
    assert [int(x[0, 0, 0, 1]) for x in v[:3]] == [0, 10, 21]  # left, centre, right crops
    starts = window_starts(2.0, 4, 160, 2)
    assert [int(x[0, 0, 0, 0]) for x in v[::3]] == [int(s * 25) for s in starts]
    assert window_starts(2.0, 4, 160, 1)[0] == pytest.approx(synth.sample_times(2.0, 4, 160, None)[0])


class _Tok:
    def tokenize(self, texts, length):
        return [[i] + [0] * (length - 1) for i in range(len(texts))]


def test_scores_are_averaged_over_views_and_reported():
    """A toy encoder: a view's embedding is the one-hot of its frames' value; label i's text is e_i."""
    labels = ["a", "b", "c", "d", "e", "f"]
    eye = np.eye(6, dtype=np.float32)
    enc = Encoders(video=lambda f: eye[f[:, 0, 0, 0, 0].astype(int)], text=lambda ids: eye[ids[:, 0]], frames=2, size=8,
                   context_length=4, logit_scale=10.0, template="{}", tokenizer=_Tok())

    def clip(label, first, second):  # the first half of the clip shows `first`, the second `second`
        f = np.zeros((40, 8, 8, 3), np.uint8)
        f[:20], f[20:] = first, second
        return Clip(Path(label), label, f, 25.0)
    # two windows per clip (early, late); ties in the average go to the lower index
    clips = [clip("a", 0, 0), clip("b", 1, 2), clip("c", 0, 0), clip("d", 3, 3), clip("f", 0, 0)]
    r = evaluate_clips(enc, iter(clips), labels, interval_ms=40, n_clips=2, chunk=2)
    assert r.views == 2 and r.k == 5
    assert r.confusion[1].tolist() == [0, 1, 0, 0, 0, 0]  # b: half b, half c -> b
    assert r.top1 == pytest.approx(3 / 5)
    assert r.top5 == pytest.approx(4 / 5)  # a one-hot 'a' ranks a, then b..e (stable ties): c in, f out
    assert r.confusions() == [("c", "a", 1), ("f", "a", 1)]
    assert r.per_class()[3] == ("d", 1, 1) and r.per_class()[4] == ("e", 0, 0)
    with pytest.raises(ValueError, match="label 'z' is not in the label set"):
        evaluate_clips(enc, [Clip(Path("z.mp4"), "z", clips[0].frames, 25.0)], labels, 40)


@need_ort
def test_evaluate_the_committed_bundle_in_onnxruntime_with_multi_view(tmp_path, capsys):
    picks = ("red ball moving left", "blue ball moving right", "blue ball growing", synth.IDLE)
    synth.write_dataset(tmp_path / "clips", 20261201, 1, 2.0, picks)
    out = tmp_path / "report.json"
    assert main(["evaluate", "--bundle", str(BUNDLE), "--data", str(tmp_path / "clips"), "--clips", "2", "--crops", "3",
                 "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    report = json.loads(out.read_text())
    assert report["views"] == 6 and report["clips"] == 4
    assert report["top1"] >= 0.75 and report["top5"] >= report["top1"]
    assert set(report["per_class"]) == set(json.loads((BUNDLE / "bundle.json").read_text())["labels"])
    assert f"top-1: {report['top1']:.4f}  top-5: {report['top5']:.4f} on 4 clips, 6 view(s) each" in printed
