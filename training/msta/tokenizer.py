"""CLIP's byte-pair tokenizer (same algorithm as openai/CLIP's simple tokenizer),
plus a learner that builds a small CLIP-format merges file from a caption corpus.

The daemon's TypeScript tokenizer follows the same reference algorithm, so both must give
identical ids for the real 49,152-merge vocabulary and for ours."""
from __future__ import annotations

import collections
import gzip
import html
import io
import re
import unicodedata
from functools import lru_cache
from pathlib import Path

SOT = "<|startoftext|>"
EOT = "<|endoftext|>"
# CLIP reads at most this many merges (49,408-token table = 512 byte tokens + merges + 2 specials).
MAX_MERGES = 49152 - 256 - 2
_CONTRACTIONS = ("s", "t", "re", "ve", "m", "ll", "d")


@lru_cache()
def bytes_to_unicode() -> dict[int, str]:
    """Printable stand-in character for every byte (CLIP's table)."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    chars = printable[:]
    extra = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + extra)
            extra += 1
    return dict(zip(printable, (chr(c) for c in chars)))


def clean(text: str) -> str:
    """CLIP's cleaning. Of ftfy.fix_text only the two fixes that touch well-formed text are done
    (as in the daemon's tokenizer): NFC normalisation and straight quotes."""
    text = unicodedata.normalize("NFC", text)
    text = re.sub("[\u2018-\u201b]", "'", text)
    text = re.sub("[\u201c-\u201f]", '"', text)
    text = html.unescape(html.unescape(text)).strip()
    return re.sub(r"\s+", " ", text).strip().lower()


def _is_letter(ch: str) -> bool:
    return unicodedata.category(ch).startswith("L")


def _is_number(ch: str) -> bool:
    return unicodedata.category(ch).startswith("N")


def pre_tokenize(text: str) -> list[str]:
    """CLIP's regex, written out as a scanner so no third-party regex module is needed:
    <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|[\\p{L}]+|[\\p{N}]|[^\\s\\p{L}\\p{N}]+"""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        special = next((s for s in (SOT, EOT) if text.startswith(s, i)), None)
        if special:
            out.append(special)
            i += len(special)
            continue
        if text[i] == "'":
            contraction = next((c for c in _CONTRACTIONS if text.startswith(c, i + 1)), None)
            if contraction:
                out.append("'" + contraction)
                i += 1 + len(contraction)
                continue
        ch = text[i]
        if ch.isspace():
            i += 1
        elif _is_letter(ch):
            j = i
            while j < n and _is_letter(text[j]):
                j += 1
            out.append(text[i:j])
            i = j
        elif _is_number(ch):
            out.append(ch)
            i += 1
        else:
            j = i
            while j < n and not (text[j].isspace() or _is_letter(text[j]) or _is_number(text[j])):
                j += 1
            out.append(text[i:j])
            i = j
    return out


def _initial_word(token: str) -> tuple[str, ...]:
    encoder = bytes_to_unicode()
    chars = "".join(encoder[b] for b in token.encode("utf-8"))
    return tuple(chars[:-1]) + (chars[-1] + "</w>",)


def read_merges(path: str | Path) -> list[tuple[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        lines = f.read().split("\n")
    merges = [tuple(line.split()) for line in lines[1:] if line.strip()]
    bad = next((m for m in merges if len(m) != 2), None)
    if bad is not None:
        raise ValueError(f"{path}: merge line {' '.join(bad)!r} is not two symbols")
    return merges[:MAX_MERGES]  # type: ignore[return-value]


def write_merges(path: str | Path, merges: list[tuple[str, str]], header: str = "#version: 0.2") -> None:
    """gzip with a fixed mtime and no file name so the bundle's sha256 is reproducible."""
    data = (header + "\n" + "\n".join(f"{a} {b}" for a, b in merges) + "\n").encode("utf-8")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0) as gz:
        gz.write(data)
    Path(path).write_bytes(buf.getvalue())



def merge_pair(word: tuple[str, ...], pair: tuple[str, str]) -> tuple[str, ...]:
    """`word` with every occurrence of the adjacent `pair` joined into one symbol (a BPE merge)."""
    out: list[str] = []
    i = 0
    while i < len(word):
        if i < len(word) - 1 and (word[i], word[i + 1]) == pair:
            out.append(word[i] + word[i + 1])
            i += 2
        else:
            out.append(word[i])
            i += 1
    return tuple(out)

class Tokenizer:
    def __init__(self, vocab_path: str | Path):
        self.vocab_path = Path(vocab_path)
        if not self.vocab_path.is_file():
            raise FileNotFoundError(f"tokenizer vocabulary not found: {self.vocab_path}")
        merges = read_merges(self.vocab_path)
        base = list(bytes_to_unicode().values())
        table = base + [c + "</w>" for c in base] + ["".join(m) for m in merges] + [SOT, EOT]
        self.encoder = {tok: i for i, tok in enumerate(table)}
        self.ranks = {m: i for i, m in enumerate(merges)}
        self.sot_id = self.encoder[SOT]
        self.eot_id = self.encoder[EOT]
        self.vocab_size = len(table)
        self._cache: dict[str, list[str]] = {}

    def bpe(self, token: str) -> list[str]:
        if token in self._cache:
            return self._cache[token]
        word = _initial_word(token)
        while len(word) > 1:
            pairs = set(zip(word, word[1:]))
            best = min(pairs, key=lambda p: self.ranks.get(p, float("inf")))
            if best not in self.ranks:
                break
            word = merge_pair(word, best)
        self._cache[token] = list(word)
        return self._cache[token]

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for token in pre_tokenize(clean(text)):
            if token in (SOT, EOT):
                ids.append(self.encoder[token])
            else:
                ids.extend(self.encoder[t] for t in self.bpe(token))
        return ids

    def tokenize(self, texts: list[str], context_length: int) -> list[list[int]]:
        """[SOT] ids [EOT] zero-padded to context_length; too long is cut and ends with EOT
        (CLIP's truncate=True)."""
        rows = []
        for text in texts:
            ids = [self.sot_id] + self.encode(text) + [self.eot_id]
            if len(ids) > context_length:
                ids = ids[:context_length]
                ids[-1] = self.eot_id
            rows.append(ids + [0] * (context_length - len(ids)))
        return rows


def learn_merges(corpus: list[str], max_merges: int) -> list[tuple[str, str]]:
    """Classic BPE over CLIP's pre-tokenised, byte-encoded words: repeatedly merge the most
    frequent adjacent pair (ties: the smallest pair) until max_merges or no pair occurs twice."""
    counts: collections.Counter[tuple[str, ...]] = collections.Counter()
    for text in corpus:
        for token in pre_tokenize(clean(text)):
            if token not in (SOT, EOT):
                counts[_initial_word(token)] += 1
    words = dict(counts)
    merges: list[tuple[str, str]] = []
    while len(merges) < max_merges:
        pairs: collections.Counter[tuple[str, str]] = collections.Counter()
        for word, c in words.items():
            for p in zip(word, word[1:]):
                pairs[p] += c
        if not pairs:
            break
        best_count = max(pairs.values())
        if best_count < 2:
            break
        best = min(p for p, c in pairs.items() if c == best_count)
        merges.append(best)
        updated: dict[tuple[str, ...], int] = {}
        for word, c in words.items():
            out = merge_pair(word, best)
            updated[out] = updated.get(out, 0) + c
        words = updated
    return merges
