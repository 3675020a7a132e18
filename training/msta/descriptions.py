"""Class descriptions for L_CC, in our format ({label: {spatial: [..], temporal: [..]}}) or the MSTA
authors' (github chenhaoxing/ETL4Video, description/{N}_{s,t}_description_{dataset}[_base|_novel].json:
{"0": [N texts], "1": [...], ...} keyed by class index within the split, spatial (s) and temporal
(t) in separate files); and the warnings for descriptions the text model's context cuts short."""
from __future__ import annotations

import json
from pathlib import Path

from .tokenizer import Tokenizer

KINDS = ("spatial", "temporal")


def read_indexed(path: Path, labels: list[str], labels_where: str) -> dict[str, list[str]]:
    """One authors' file: {"0": [texts], ...}, class i of the split = labels[i]."""
    if not Path(path).is_file():
        raise FileNotFoundError(f"descriptions file not found: {path}")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path}: not valid JSON: {e}") from None
    if not isinstance(data, dict) or not all(isinstance(k, str) and k.isdigit() for k in data):
        raise ValueError(f'{path}: expected {{"0": [texts], "1": [...], ...}} keyed by class index')
    wanted = [str(i) for i in range(len(labels))]
    if sorted(data, key=int) != wanted:
        raise ValueError(f"{path}: {len(data)} classes (keys {min(data, key=int, default='-')}..{max(data, key=int, default='-')}), "
                         f"but {labels_where} lists {len(labels)}: give the class list of the same split (all, base or novel)")
    out = {}
    for key, label in zip(wanted, labels):
        items = data[key]
        if not isinstance(items, list) or not items or not all(isinstance(s, str) and s.strip() for s in items):
            raise ValueError(f"{path}: class {key} ({label!r}) must be a non-empty list of texts")
        out[label] = [s.strip() for s in items]
    return out


def read_authors(labels: list[str], labels_where: str, spatial: Path, temporal: Path) -> dict[str, dict[str, list[str]]]:
    s = read_indexed(spatial, labels, labels_where)
    t = read_indexed(temporal, labels, labels_where)
    return {label: {"spatial": s[label], "temporal": t[label]} for label in labels}


def cut_to_context(descriptions: dict[str, dict[str, list[str]]], tokenizer: Tokenizer, context_length: int) -> list[str]:
    """A warning for every description longer than the context (CLIP's tokenizer cuts it)."""
    warnings = []
    for label, kinds in descriptions.items():
        for kind in KINDS:
            for text in kinds[kind]:
                n = len(tokenizer.encode(text)) + 2
                if n > context_length:
                    warnings.append(f"warning: {label!r} {kind} description cut to the {context_length}-token context "
                                    f"({n} tokens): {text!r}")
    return warnings


def _yaml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar


def write_descriptions(path: Path, descriptions: dict[str, dict[str, list[str]]]) -> None:
    """.yaml / .yml: a daemon label file ({name, descriptions}: spatial then temporal texts);
    otherwise our training JSON."""
    path = Path(path)
    if path.suffix.lower() in (".yaml", ".yml"):
        lines = []
        for label, kinds in descriptions.items():
            lines.append(f"- name: {_yaml_string(label)}")
            lines.append("  descriptions:")
            lines += [f"    - {_yaml_string(text)}" for kind in KINDS for text in kinds[kind]]
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        path.write_text(json.dumps(descriptions, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
