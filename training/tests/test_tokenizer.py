"""The Python tokenizer against CLIP's published ids (the fixture the daemon's tests use), against
the daemon's own TypeScript tokenizer (`msta-edge tokenize`), and the vocabulary learner."""
import json
import shutil
import subprocess

import pytest

from conftest import REPO, SHARED
from msta import synth
from msta.tokenizer import Tokenizer, learn_merges, pre_tokenize, read_merges, write_merges

REAL_VOCAB = SHARED / "clip" / "bpe_simple_vocab_16e6.txt.gz"
FIXTURE = json.loads((REPO / "test" / "fixtures" / "clip-token-ids.json").read_text())
need_vocab = pytest.mark.skipif(not REAL_VOCAB.is_file(), reason=f"missing {REAL_VOCAB} (shared test data)")
TRICKY = ["a video of playing guitar.", "cafe\u0301 \u2018quoted\u2019 \u201cdouble\u201d", "Don't  stop &amp;amp; go!!", "héllo wörld 2024 ²½", "<|endoftext|> tail",
          "  Tabs\tand\nnewlines  ", "emoji 🙂👍 ok", "日本語のテキスト", "it's we'll they've I'M", "x--y...z",
          "a ball blinking", "blue ball moving up"]


@pytest.fixture(scope="module")
def real():
    return Tokenizer(REAL_VOCAB)


@need_vocab
def test_real_vocabulary_matches_published_clip_ids(real):
    assert real.vocab_size == 49408 and (real.sot_id, real.eot_id) == (49406, 49407)
    for case in FIXTURE["cases"]:
        assert real.tokenize([case["text"]], 200)[0][: len(case["ids"])] == case["ids"], (case["text"], case["source"])
    for group in FIXTURE["same_ids"]:
        rows = real.tokenize(group["texts"], 77)
        assert all(r == rows[0] for r in rows), group["texts"]
    for ctx in FIXTURE["context"]:
        assert real.tokenize(ctx["texts"], ctx["context_length"]) == ctx["rows"]


def test_pre_tokenizer_follows_clips_pattern():
    assert pre_tokenize("don't stop, it's 42!") == ["don", "'t", "stop", ",", "it", "'s", "4", "2", "!"]
    assert pre_tokenize("a<|endoftext|>b !<|endoftext|>") == ["a", "<|endoftext|>", "b", "!<|", "endoftext", "|>"]


def test_learned_vocabulary_is_clip_format_and_covers_the_corpus(tmp_path):
    corpus = synth.corpus()
    merges = learn_merges(corpus, 2000)
    path = tmp_path / "v.txt.gz"
    write_merges(path, merges)
    assert read_merges(path) == merges
    tok = Tokenizer(path)
    assert tok.vocab_size == 512 + len(merges) + 2 and tok.eot_id == tok.vocab_size - 1
    # frequent corpus words become single tokens
    for word in ("red", "blue", "ball", "moving", "left", "right"):
        assert len(tok.encode(word)) == 1, word
    # reproducible file (fixed gzip header) -> stable bundle hashes
    write_merges(tmp_path / "again.txt.gz", learn_merges(corpus, 2000))
    assert (tmp_path / "again.txt.gz").read_bytes() == path.read_bytes()


def _typescript_ids(vocab, texts):
    proc = subprocess.run(["node", "--import", "tsx", "src/daemon/main.ts", "tokenize", "--vocab", str(vocab)],
                          cwd=REPO, input="\n".join(texts) + "\n", capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return [json.loads(line) for line in proc.stdout.splitlines()]


need_node = pytest.mark.skipif(shutil.which("node") is None or not (REPO / "node_modules" / "tsx").is_dir(),
                               reason="node with the repo's node_modules is needed for the daemon's tokenizer")
# lines with newlines would split in the CLI's line protocol
ONE_LINE = [t for t in TRICKY if "\n" not in t]


@need_node
def test_same_ids_as_the_daemons_tokenizer_with_our_vocabulary(tmp_path):
    path = tmp_path / "v.txt.gz"
    write_merges(path, learn_merges(synth.corpus(), 2000))
    tok = Tokenizer(path)
    ts = _typescript_ids(path, ONE_LINE)
    assert [[tok.sot_id] + tok.encode(t) + [tok.eot_id] for t in ONE_LINE] == ts


@need_node
@need_vocab
def test_same_ids_as_the_daemons_tokenizer_with_the_real_vocabulary(real):
    ts = _typescript_ids(REAL_VOCAB, ONE_LINE)
    assert [[real.sot_id] + real.encode(t) + [real.eot_id] for t in ONE_LINE] == ts
