"""The claim check's cuts, fitted on labelled drafts (``rag fit-judge`` writes ``support_cuts.json``)."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path

from rag.errors import ConfigError

CUTS_PATH = Path(__file__).with_name("support_cuts.json")


@dataclass(frozen=True)
class Cuts:
    """The check's cuts, fitted on labelled drafts (``rag fit-judge``; ``support_cuts.json``)."""

    min_coverage: float
    """Share of the claim's relation words matched in the unit."""
    min_similarity: float
    """Sentence-vector cosine of claim and unit."""
    word_match: float
    """Word-vector cosine that counts as a translation ("faster" ~ "schneller" 0.94)."""
    strong_match: float
    """The same for a claim resting on one relation word."""
    earlier_match: float
    """The same for "before", "zuvor" (their vectors sit near unrelated words: "before" ~ "künftig")."""
    fitted_on: dict = field(default_factory=dict, compare=False)

    @classmethod
    def load(cls, path: Path = CUTS_PATH) -> Cuts:
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            return cls(**{f: data[f] for f in CUT_NAMES}, fitted_on=data.get("fitted_on", {}))
        except (OSError, ValueError, KeyError, TypeError) as e:
            msg = f"The claim check's cuts at {path} can't be read ({e}). Refit them with `rag fit-judge`."
            raise ConfigError(msg) from None

    def save(self, path: Path = CUTS_PATH) -> None:
        data = {**{f: round(getattr(self, f), 4) for f in CUT_NAMES}, "fitted_on": self.fitted_on}
        Path(path).write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


CUT_NAMES = ("min_coverage", "min_similarity", "word_match", "strong_match", "earlier_match")


@functools.lru_cache(maxsize=1)
def default_cuts() -> Cuts:
    return Cuts.load()
