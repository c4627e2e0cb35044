"""A deterministic synthetic corpus of any size, built from the real articles.

Each paragraph is 2-4 sentences drawn across all articles (a seeded walk over
shuffled sentences), and every sentence is varied: its numbers are redrawn
and some of its capitalised words (German nouns, names, places) are swapped
for others from the corpus or a list of invented names. Paragraphs are sized
to become exactly one chunk each (``ingest.chunking``: 200-600 characters,
split at blank lines), so ``size`` paragraphs give about ``size`` chunks,
each with distinct text. The corpus of size n is a prefix of the one of size
m > n: the same seed gives the same text at every size.
"""

from __future__ import annotations

import hashlib
import random
import re
from dataclasses import dataclass
from pathlib import Path

from ingest.chunking import MAX_CHUNK_CHARS, MIN_CHUNK_CHARS
from rag.sentences import split_sentences
from ingest.loaders import load

PARAGRAPHS_PER_FILE = 200
_MIN_PARA = MIN_CHUNK_CHARS + 20
_MAX_PARA = MAX_CHUNK_CHARS - 40
_NUMBER = re.compile(r"\d+")
_CAPITALISED = re.compile(r"(?<=\s)[A-ZÄÖÜ][a-zäöüß]{3,}")
_INVENTED = (
    "Valeria Moreno",
    "Tomás Quiroga",
    "Ines Albrecht",
    "Jonas Feldmann",
    "Rosario",
    "Córdoba",
    "Hamburg",
    "Lisboa",
    "Mendoza",
    "Leipzig",
    "Studio Aurora",
    "Pixelwerk",
    "Nordlicht Media",
    "Andes Films",
    "Greta Hollmann",
    "Mateo Ibarra",
    "Sofía Lanz",
    "Kaspar Wendt",
    "Montevideo",
    "Bremen",
)


@dataclass(frozen=True)
class SyntheticCorpus:
    folder: Path
    paragraphs: int
    files: int
    sentences: int
    distinct_sentences: int
    chars: int

    @property
    def distinct_sentence_share(self) -> float:
        return self.distinct_sentences / max(self.sentences, 1)


def source_sentences(articles: Path) -> list[str]:
    """Body sentences of the real articles (headings and fragments left out)."""
    out = []
    for path in sorted(p for p in Path(articles).rglob("*") if p.is_file() and not p.name.startswith(".")):
        try:
            text = load(path, path.name).text
        except Exception:  # noqa: BLE001, S112 - a bad file just contributes nothing
            continue
        for s, e in split_sentences(text):
            sentence = " ".join(text[s:e].split())
            if 40 <= len(sentence) <= 260:
                out.append(sentence)
    if not out:
        msg = f"No sentences to build a synthetic corpus from in {articles}."
        raise ValueError(msg)
    return out


class _Generator:
    def __init__(self, sentences: list[str], seed: int) -> None:
        self.rng = random.Random(seed)
        self.sentences = sentences
        words = sorted({w for s in sentences for w in _CAPITALISED.findall(s)})
        self.pool = words + list(_INVENTED)
        self.order: list[int] = []

    def _next_sentence(self) -> str:
        if not self.order:
            self.order = list(range(len(self.sentences)))
            self.rng.shuffle(self.order)
        return self.sentences[self.order.pop()]

    def _vary(self, sentence: str) -> str:
        rng = self.rng
        sentence = _NUMBER.sub(lambda m: str(rng.randint(1, 10 ** len(m.group()) - 1)), sentence)
        spots = list(_CAPITALISED.finditer(sentence))
        rng.shuffle(spots)
        # Always swap at least one word where there is one, so a sentence is
        # almost never repeated verbatim (embedding work is not deduplicated).
        for m in sorted(spots[: max(1, len(spots) // 3)], key=lambda m: m.start(), reverse=True):
            sentence = sentence[: m.start()] + rng.choice(self.pool) + sentence[m.end() :]
        return sentence

    def paragraph(self) -> list[str]:
        parts: list[str] = []
        size = 0
        while size < _MIN_PARA:
            s = self._vary(self._next_sentence())
            if parts and size + 1 + len(s) > _MAX_PARA:
                continue
            if not parts and len(s) > _MAX_PARA:
                continue
            parts.append(s)
            size += len(s) + (1 if len(parts) > 1 else 0)
        return parts


def build(folder: Path, size: int, articles: Path, seed: int = 13) -> SyntheticCorpus:
    """Write ``size`` paragraphs (about ``size`` chunks) as .txt files in ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    gen = _Generator(source_sentences(articles), seed)
    seen: set[bytes] = set()
    sentences: set[bytes] = set()
    n_sentences = chars = files = 0
    batch: list[str] = []
    done = 0
    while done < size:
        parts = gen.paragraph()
        text = " ".join(parts)
        key = hashlib.blake2b(text.encode(), digest_size=16).digest()
        if key in seen:
            continue
        seen.add(key)
        n_sentences += len(parts)
        sentences.update(hashlib.blake2b(p.encode(), digest_size=16).digest() for p in parts)
        chars += len(text)
        batch.append(text)
        done += 1
        if len(batch) == PARAGRAPHS_PER_FILE or done == size:
            (folder / f"synth_{files:05d}.txt").write_text("\n\n".join(batch) + "\n", encoding="utf-8")
            files += 1
            batch = []
    return SyntheticCorpus(folder, size, files, n_sentences, len(sentences), chars)
