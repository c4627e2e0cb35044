"""Fit the claim check's cuts on labelled drafts (part of ``rag fit-judge``).

The cuts are chosen so that no invented claim of the training drafts is kept
and as many supported ones as possible are: a coordinate search over a grid for
each cut, holding the others. Where several values do equally well, the middle
one of them is taken, the farthest from where the result would change.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import numpy as np

from rag.generation.citation_check import SupportChecker
from rag.generation.claim_cases import Case, run, summary
from rag.generation.cuts import CUT_NAMES, Cuts

GRIDS = {
    "min_coverage": np.arange(0.30, 0.801, 0.05),
    "min_similarity": np.arange(0.10, 0.451, 0.025),
    "word_match": np.arange(0.50, 0.861, 0.02),
    "strong_match": np.arange(0.50, 0.901, 0.02),
    "earlier_match": np.arange(0.60, 0.951, 0.025),
}
MAX_PASSES = 4


def fit_cuts(checker: SupportChecker, cases: list[Case], articles: Path, sources: list[Path] = ()) -> Cuts:
    """Cuts that keep no invented claim of ``cases`` and the most supported ones."""
    seen: dict[tuple[float, ...], tuple[int, int]] = {}

    def objective(cuts: Cuts) -> tuple[int, int]:
        key = tuple(getattr(cuts, n) for n in CUT_NAMES)
        if key not in seen:
            checker.cuts = cuts
            outcomes = run(checker, cases, articles)
            checker.cuts = None
            seen[key] = (-sum(o.kept for o in outcomes if not o.supported), sum(o.kept for o in outcomes if o.supported))
        return seen[key]

    cuts = Cuts(**{n: _round(GRIDS[n][len(GRIDS[n]) // 2]) for n in CUT_NAMES})
    for _ in range(MAX_PASSES):
        before = cuts
        for name in CUT_NAMES:
            grid = [_round(v) for v in GRIDS[name]]
            scores = [objective(replace(cuts, **{name: v})) for v in grid]
            best = [i for i, s in enumerate(scores) if s == max(scores)]
            middle = best[len(best) // 2]
            cuts = replace(cuts, **{name: grid[middle]})
        if cuts == before:
            break
    invented_kept, kept = objective(cuts)
    digest = hashlib.sha256(b"".join(Path(p).read_bytes() for p in sources)).hexdigest()[:16] if sources else ""
    return replace(cuts, fitted_on={
        "files": [Path(p).name for p in sources], "sha256": digest, "drafts": len(cases),
        "claims": sum(len(c.claims) for c in cases), "invented_kept": -invented_kept, "supported_kept": kept,
    })


def _round(value: float) -> float:
    return round(float(value), 4)


def cross_validate(checker: SupportChecker, cases: list[Case], articles: Path) -> dict[str, dict]:
    """Cuts fitted on each fold's cases, measured on the other fold's: how well they carry over."""
    out = {}
    folds = sorted({c.fold for c in cases})
    for fold in folds:
        held_out = [c for c in cases if c.fold == fold]
        fitted = fit_cuts(checker, [c for c in cases if c.fold != fold], articles)
        checker.cuts = fitted
        out[f"fitted without {fold}, measured on {fold}"] = summary(run(checker, held_out, articles))
    checker.cuts = None
    return out
