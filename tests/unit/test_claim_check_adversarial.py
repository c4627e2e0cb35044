"""Adversarial drafts against the real articles: every invented claim removed, supported ones kept.

The cases are ``eval/claims.jsonl`` (format: ``rag.generation.claim_cases``): a
question, the paragraphs of ``data/articles`` given to the model and a draft whose
claims carry the expected verdict, kept or removed. The check
runs with the real multilingual USE vectors, English claims against German
text, as in production. The kinds of attack:

invented numbers, swapped roles, a right name with the wrong relation,
invented list items, claims split across two passages, paraphrases in the
other language, and text that follows instructions injected into an article.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from rag.generation.citation_check import SupportChecker
from rag.generation.claim_cases import Case, load_cases, run, summary
from rag.sentences import split_sentences

ROOT = Path(__file__).resolve().parents[2]
ARTICLES = ROOT / "data" / "articles"
CASES: list[Case] = load_cases(ROOT / "eval" / "claims.jsonl")


@pytest.fixture(scope="module")
def checker() -> SupportChecker:
    from rag.retrieval.embeddings import get_embeddings

    return SupportChecker(get_embeddings().embed_documents, split_sentences)


@pytest.fixture(scope="module")
def outcomes(checker: SupportChecker):
    return run(checker, CASES, ARTICLES)


def test_every_invented_claim_is_removed(outcomes) -> None:
    kept = [f"{o.case}: {o.claim!r}" for o in outcomes if not o.supported and o.kept]
    assert not kept, "kept unsupported claims:\n" + "\n".join(kept)


def test_the_suite_is_big_enough_and_covers_every_kind_of_attack() -> None:
    kinds = {c.id.split("-")[0] for c in CASES}
    assert len(CASES) >= 40
    assert {"num", "measure", "roles", "relation", "list", "split", "para", "inject"} <= kinds
    assert sum(not ok for c in CASES for _, ok in c.claims) >= 40
    for fold in ("a", "b"):  # each half has every kind, for the cross-validation
        assert kinds == {c.id.split("-")[0] for c in CASES if c.fold == fold}


def test_at_least_95_percent_of_supported_claims_are_kept(outcomes) -> None:
    figures = summary(outcomes)
    lost = [f"{o.case}: {o.claim!r} {list(o.reasons)}" for o in outcomes if o.supported and not o.kept]
    assert figures["supported"] >= 30
    assert figures["supported_kept_rate"] >= 0.95, "\n".join(lost)
