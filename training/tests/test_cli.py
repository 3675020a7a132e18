"""The command line: params presets, synth, and clear errors for bad inputs."""
import json
import subprocess
import sys

import pytest

from conftest import TRAINING
from msta import synth
from msta.cli import main
from msta.data import read_descriptions, read_labels


def run(*args):
    return subprocess.run([sys.executable, "-m", "msta", *args], cwd=TRAINING, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("backbone,dim,layers,reported", [
    ("viclip-b16", 256, "1-12", 8_700_000),  # paper: 8.7M
    ("viclip-b16", 128, "8-12", 1_744_000),  # authors' few-shot logs: 1.744M
])
def test_params_presets_match_the_reported_counts(capsys, backbone, dim, layers, reported):
    assert main(["params", "--backbone", backbone, "--adapter-dim", str(dim), "--adapter-layers", layers]) == 0
    trainable = int(capsys.readouterr().out.strip().splitlines()[-1])
    assert abs(trainable - reported) / reported <= 0.005


def test_synth_lists_labels_and_writes_clips(tmp_path):
    out = run("synth", "--list-labels")
    assert out.returncode == 0 and out.stdout.split("\n")[:-1] == list(synth.LABELS)
    labels = tmp_path / "labels.txt"
    labels.write_text("red ball moving left\nnothing happening\n")
    out = run("synth", "--out", str(tmp_path / "clips"), "--seed", "5", "--per-class", "1", "--seconds", "1.5",
              "--labels", str(labels))
    assert out.returncode == 0, out.stderr
    index = json.loads((tmp_path / "clips" / "labels.json").read_text())
    assert [e["label"] for e in index] == ["red ball moving left", "nothing happening"]
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=codec_name,pix_fmt,width,height", "-of", "json", str(tmp_path / "clips" / index[0]["file"])],
                           capture_output=True, text=True)
    stream = json.loads(probe.stdout)["streams"][0]
    assert (stream["codec_name"], stream["pix_fmt"], stream["width"], stream["height"]) == ("h264", "yuv420p", 160, 120)


def test_empty_label_set_is_refused(tmp_path):
    empty = tmp_path / "labels.txt"
    empty.write_text("# nothing\n\n")
    with pytest.raises(ValueError, match="the label set is empty"):
        read_labels(empty)
    out = run("train", "--data", str(tmp_path), "--labels", str(empty), "--out", str(tmp_path / "o"),
              "--backbone-checkpoint", str(tmp_path / "none.pt"))
    assert out.returncode == 2 and "the label set is empty" in out.stderr


def test_missing_descriptions_and_checkpoint_are_named(tmp_path):
    d = tmp_path / "d.json"
    d.write_text(json.dumps({"a": {"spatial": ["x"], "temporal": ["y"]}}))
    with pytest.raises(ValueError, match="no descriptions for: b"):
        read_descriptions(d, ["a", "b"])
    labels = tmp_path / "labels.txt"
    labels.write_text("a\n")
    out = run("train", "--data", str(tmp_path), "--labels", str(labels), "--out", str(tmp_path / "o"),
              "--backbone-checkpoint", str(tmp_path / "missing.pt"))
    assert out.returncode == 2 and f"checkpoint not found: {tmp_path / 'missing.pt'}" in out.stderr


def test_committed_demo_video_matches_its_timeline():
    demo = TRAINING.parent / "models" / "demo"
    meta = json.loads((demo / "actions-demo.json").read_text())
    mp4 = demo / meta["video"]
    assert mp4.stat().st_size <= 1_000_000
    probe = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries",
                            "stream=codec_name,pix_fmt,width,height:format=duration", "-of", "json", str(mp4)],
                           capture_output=True, text=True)
    info = json.loads(probe.stdout)
    stream = info["streams"][0]
    assert (stream["codec_name"], stream["pix_fmt"]) == ("h264", "yuv420p")
    assert (stream["width"], stream["height"]) == (meta["width"], meta["height"])
    assert abs(float(info["format"]["duration"]) - meta["seconds"]) < 0.1
    segments = meta["timeline"]
    assert segments[0]["start_s"] == 0 and segments[-1]["end_s"] == meta["seconds"]
    assert all(a["end_s"] == b["start_s"] for a, b in zip(segments, segments[1:]))
    assert {s["label"] for s in segments} <= set(synth.LABELS)
    assert [s["label"] for s in segments[::2]] == [synth.IDLE] * len(segments[::2])  # idle between actions
