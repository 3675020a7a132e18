"""The MSTA authors' description files (ETL4Video description/{N}_{s,t}_description_{dataset}
[_base|_novel].json: {"0": [texts], ...} keyed by class index within the split, spatial and
temporal apart) with their id,name class lists: read directly by train, imported into our JSON
and into the daemon's YAML label files; every description the context cuts is named."""
import json
import shutil
import subprocess

import pytest
import torch

from conftest import REPO
from msta import synth
from msta.checkpoint import save_checkpoint
from msta.cli import main
from msta.data import read_descriptions, read_labels
from msta.descriptions import read_authors
from msta.model import MSTAModel
from msta.tokenizer import Tokenizer, learn_merges, write_merges

CLASSES = ["red ball moving left", "blue ball growing", "nothing happening"]  # split "all"
BASE, NOVEL = CLASSES[:2], CLASSES[2:]
LONG = "A video of {} generally involves the following step: the ball keeps on changing, which is a sub-step."


def authors_files(folder, classes, split=""):
    """Written the way the authors' files are: 4-space indent, keys "0".."N-1", N texts each."""
    spatial = {str(i): [f"A video about a {c.split()[0]} thing.", f"A video about {c}."] for i, c in enumerate(classes)}
    temporal = {str(i): [f"A video of {c} generally involves the following step: start, which is a sub-step.", LONG.format(c)]
                for i, c in enumerate(classes)}
    s, t = folder / f"2_s_description_toy{split}.json", folder / f"2_t_description_toy{split}.json"
    s.write_text(json.dumps(spatial, indent=4))
    t.write_text(json.dumps(temporal, indent=4))
    csv = folder / f"toy{split}_labels.csv"
    csv.write_text("id,name\n" + "".join(f"{i},{c}\n" for i, c in enumerate(classes)))
    return csv, s, t


def test_class_lists_and_split_keys(tmp_path):
    csv, s, t = authors_files(tmp_path, BASE, "_base")
    assert read_labels(csv) == BASE
    d = read_authors(BASE, str(csv), s, t)
    assert d["blue ball growing"]["spatial"] == ["A video about a blue thing.", "A video about blue ball growing."]
    assert d["red ball moving left"]["temporal"][1] == LONG.format("red ball moving left")
    with pytest.raises(ValueError, match=r"2 classes \(keys 0..1\), but all.txt lists 3: give the class list of the same split"):
        read_authors(CLASSES, "all.txt", s, t)
    bad = tmp_path / "bad.csv"
    bad.write_text("id,name\n0,a\n2,b\n")
    with pytest.raises(ValueError, match="class ids must be 0..1"):
        read_labels(bad)
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps({"0": ["x"], "1": []}))
    with pytest.raises(ValueError, match=r"class 1 \('blue ball growing'\) must be a non-empty list"):
        read_authors(BASE, "b", broken, t)


@pytest.fixture(scope="module")
def backbone(tmp_path_factory):
    from conftest import backbone_preset
    tmp = tmp_path_factory.mktemp("backbone")
    vocab = tmp / "v.txt.gz"
    write_merges(vocab, learn_merges(synth.corpus(), 300))
    cfg = backbone_preset("viclip-tiny", frames=4, image_size=32, patch_size=16, vision_width=32, vision_layers=2,
                          vision_heads=2, text_width=32, text_layers=2, text_heads=2, context_length=16,
                          vocab_size=Tokenizer(vocab).vocab_size, embed_dim=16, tubelet=1)
    torch.manual_seed(0)
    path = tmp / "backbone.pt"
    save_checkpoint(path, MSTAModel(cfg, None), {"name": "tiny"}, vocab.read_bytes())
    return path, vocab


def test_train_reads_the_authors_files_and_names_every_cut_description(tmp_path, backbone, capsys):
    path, _ = backbone
    data = tmp_path / "clips"
    synth.write_dataset(data, 4, 2, 1.2, tuple(BASE))
    csv, s, t = authors_files(tmp_path, BASE, "_base")
    rc = main(["train", "--data", str(data), "--labels", str(csv), "--spatial-descriptions", str(s),
               "--temporal-descriptions", str(t), "--out", str(tmp_path / "out"), "--backbone-checkpoint", str(path),
               "--adapter-dim", "8", "--adapter-layers", "1-2", "--epochs", "2", "--batch", "2", "--warmup-epochs", "1",
               "--holdout", "0", "--frame-interval-ms", "200"])
    out = capsys.readouterr()
    assert rc == 0, out.err
    assert f"checkpoint: {tmp_path / 'out' / 'checkpoint.pt'}" in out.out and (tmp_path / "out" / "checkpoint.pt").is_file()
    cut = [line for line in out.err.splitlines() if line.startswith("warning:")]
    for c in BASE:  # each class's long temporal description, and nothing else
        assert f"warning: {c!r} temporal description cut to the 16-token context" in out.err
        assert repr(LONG.format(c)) in out.err
    tok = Tokenizer(backbone[1])
    texts = [x for c in BASE for kind in ("spatial", "temporal") for x in read_authors(BASE, "", s, t)[c][kind]]
    assert len(cut) == sum(len(tok.encode(x)) + 2 > 16 for x in texts)


need_node = pytest.mark.skipif(shutil.which("node") is None or not (REPO / "node_modules" / "tsx").is_dir(),
                               reason="node with the repo's node_modules is needed for the daemon's label-file reader")


def test_import_writes_our_json_and_warns(tmp_path, backbone, capsys):
    csv, s, t = authors_files(tmp_path, NOVEL, "_novel")
    out = tmp_path / "d.json"
    assert main(["import-descriptions", "--labels", str(csv), "--spatial", str(s), "--temporal", str(t),
                 "--out", str(out), "--vocab", str(backbone[1]), "--context-length", "16"]) == 0
    assert "warning: 'nothing happening' temporal description cut to the 16-token context" in capsys.readouterr().err
    assert read_descriptions(out, NOVEL) == read_authors(NOVEL, "", s, t)


@need_node
def test_import_writes_a_label_file_the_daemon_reads(tmp_path):
    csv, s, t = authors_files(tmp_path, CLASSES)
    out = tmp_path / "labels.yaml"
    assert main(["import-descriptions", "--labels", str(csv), "--spatial", str(s), "--temporal", str(t), "--out", str(out)]) == 0
    script = ("import { readLabelFile } from './src/recognize/label-files.ts';"
              f"process.stdout.write(JSON.stringify(readLabelFile({json.dumps(str(out))}).map((a) => a.action)));")
    proc = subprocess.run(["node", "--import", "tsx", "--input-type=module", "-e", script], cwd=REPO,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    d = read_authors(CLASSES, "", s, t)
    assert json.loads(proc.stdout) == [{"name": c, "descriptions": d[c]["spatial"] + d[c]["temporal"]} for c in CLASSES]
