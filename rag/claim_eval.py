"""Score and fit the claim check on labelled drafts (``rag eval`` of a claims file, ``rag fit-judge``).

``eval/claims.jsonl`` holds them; the check's cuts are fitted on all of it (46
drafts are too few to leave half out: the cross-validation over its two folds
shows how much the cuts move). The format is in ``rag.generation.claim_cases``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from rag.errors import ConfigError
from rag.generation.citation_check import SupportChecker
from rag.generation.claim_cases import load_cases, run, summary
from rag.generation.fit_support import cross_validate, fit_cuts
from rag.generation.cuts import CUTS_PATH, default_cuts
from rag.sentences import split_sentences


def is_claims_file(path: str | Path) -> bool:
    """A JSONL file of labelled drafts (its first row has ``claims``), not of questions."""
    try:
        with open(path, encoding="utf-8") as f:
            first = next((line for line in f if line.strip()), "")
        return "claims" in json.loads(first) if first else False
    except (OSError, ValueError):
        return False


def evaluate_claims(bot, path: str | Path) -> dict[str, Any]:
    """Every claim of the drafts in ``path`` checked with the shipped cuts: what was kept, what removed."""
    outcomes = run(_checker(bot), _cases(path), bot.settings.articles_dir)
    rows = [{"id": o.case, "claim": o.claim, "supported": o.supported, "kept": o.kept,
             "right": o.kept == o.supported, "reasons": list(o.reasons)} for o in outcomes]
    return {"rows": rows, "summary": summary(outcomes)}


def fit_claim_check(bot, path: str | Path, out: Path | None = None, cv: bool = False) -> dict[str, Any]:
    """Refit the claim check's cuts on the drafts in ``path`` and save them; ``cv`` adds the
    cross-validation over the file's folds."""
    checker, cases = _checker(bot), _cases(path)
    cuts = fit_cuts(checker, cases, bot.settings.articles_dir, [Path(path)])
    cuts.save(out or CUTS_PATH)
    default_cuts.cache_clear()
    fitted = dict(vars(cuts))
    if cv:
        fitted["cross_validation"] = cross_validate(checker, cases, bot.settings.articles_dir)
    return fitted


def _checker(bot) -> SupportChecker:
    return SupportChecker(bot.embeddings.embed_documents, split_sentences)


def _cases(path: str | Path):
    if not Path(path).is_file():
        msg = f"No claims file at {path}. Give one such as eval/claims.jsonl."
        raise ConfigError(msg)
    return load_cases(path)
