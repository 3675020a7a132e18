"""Whether a label set's descriptions tell its classes apart: each class's spatial and temporal
description means (the frozen text branch's, as L_CC uses them) must be nearest to that class's
own prompt. Descriptions that name only what classes share (e.g. the colour) pull those classes'
prompts together under L_CC.

The prompts are the trained model's (adapted=True: the space it classifies in, where L_CC pulls
each prompt towards its descriptions) or the frozen branch's (adapted=False; a poor reference
where the backbone never saw the labels' compositions, as in the test bundle's)."""
from __future__ import annotations

import torch

from .model import MSTAModel
from .paper.fit import description_means, prompt_ids
from .tokenizer import Tokenizer


def description_misses(model: MSTAModel, tokenizer: Tokenizer, labels: list[str],
                       descriptions: dict[str, dict[str, list[str]]], adapted: bool = True) -> list[str]:
    """One line per (class, kind) whose description mean is nearer another class's prompt."""
    with torch.no_grad():
        prompts = model.encode_text(prompt_ids(tokenizer, labels, model.cfg.context_length), adapted=adapted)
    misses = []
    for kind, means in zip(("spatial", "temporal"), description_means(model, tokenizer, labels, descriptions)):
        picked = (torch.nn.functional.normalize(means, dim=-1) @ prompts.T).argmax(-1).tolist()
        misses += [f"{labels[i]}: its {kind} descriptions are nearest to \"{labels[p]}\""
                   for i, p in enumerate(picked) if p != i]
    return misses
