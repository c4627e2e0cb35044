"""The keyword index: the same BM25 as the per-document loop it replaced, updated and saved exactly."""

from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from ingest.chunking import chunk_text
from ingest.loaders import load
from rag.retrieval.keyword import BM25, KeywordIndex
from rag.text import terms

ROOT = Path(__file__).resolve().parents[2]


class LoopBM25:
    """The previous implementation, kept as the reference: one posting list per term, built per document."""

    def __init__(self, ids, counts, k1=1.2, b=0.75):
        self.ids = ids
        n = len(counts)
        lengths = np.array([sum(d.values()) for d in counts], dtype=np.float32)
        avg = float(lengths.mean()) if n else 1.0
        postings = defaultdict(list)
        for i, d in enumerate(counts):
            norm = k1 * (1 - b + b * lengths[i] / max(avg, 1e-9))
            for term, tf in d.items():
                postings[term].append((i, tf * (k1 + 1) / (tf + norm)))
        self.index, self.idf = {}, {}
        for term, plist in postings.items():
            df = len(plist)
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            self.idf[term] = idf
            docs = np.fromiter((p[0] for p in plist), dtype=np.int32, count=df)
            weights = np.fromiter((p[1] for p in plist), dtype=np.float32, count=df) * idf
            self.index[term] = (docs, weights)


@pytest.fixture(scope="module")
def corpus() -> tuple[list[str], list[str], list[str]]:
    ids, texts, files = [], [], []
    for path in sorted((ROOT / "data" / "articles").iterdir()):
        for c in chunk_text(path.name, load(path, path.name).text):
            ids.append(c.id)
            texts.append(c.text)
            files.append(c.file)
    return ids, texts, files


@pytest.fixture(scope="module")
def questions() -> list[str]:
    rows = []
    for name in ("dev_questions.jsonl", "qa_test.jsonl"):
        rows += [json.loads(line)["question"] for line in (ROOT / "eval" / name).read_text().splitlines() if line]
    return rows


def _same_postings(reference: LoopBM25, bm: BM25) -> None:
    for term, (docs, weights) in reference.index.items():
        got_docs, got_weights = bm.postings(term)
        assert np.array_equal(got_docs, docs), term
        assert np.array_equal(got_weights, weights), term  # bit for bit
        assert bm.idf[term] == reference.idf[term]
    assert len(bm.idf) == len(reference.idf)


def test_same_weights_as_the_per_document_loop(corpus) -> None:
    ids, texts, files = corpus
    counts = [Counter(terms(t)) for t in texts]
    _same_postings(LoopBM25(ids, counts), KeywordIndex.build(ids, texts, files).chunks)
    by_file: dict[str, Counter] = {}
    for c, f in zip(counts, files, strict=True):
        by_file.setdefault(f, Counter()).update(c)
    index = KeywordIndex.build(ids, texts, files)
    assert index.files == list(by_file)
    _same_postings(LoopBM25(list(by_file), list(by_file.values())), index.by_file)
    assert index.chunk_file == dict(zip(ids, files, strict=True))


def test_update_equals_a_build_of_the_result(corpus, questions) -> None:
    ids, texts, files = corpus
    rows = list(zip(ids, texts, files, strict=True))
    keep, gone, fresh = rows[:40], rows[40:50], rows[50:]
    start = KeywordIndex.build(*map(list, zip(*(keep + gone), strict=True)))
    updated = start.update(fresh, [cid for cid, _, _ in gone])
    final = keep + fresh
    rebuilt = KeywordIndex.build(*map(list, zip(*final, strict=True)))
    assert updated.ids == rebuilt.ids and updated.files == rebuilt.files
    for q in questions:
        assert updated.chunks.search(q, 20) == rebuilt.chunks.search(q, 20), q
        assert updated.by_file.search(q, 3) == rebuilt.by_file.search(q, 3), q
        for _, text, _ in final[:5]:
            assert updated.chunks.coverage(q, text) == rebuilt.chunks.coverage(q, text)
    # Terms only the removed chunks had are gone from the statistics too.
    only_gone = set().union(*(terms(t) for _, t, _ in gone)) - set().union(*(terms(t) for _, t, _ in final))
    assert only_gone and all(updated.chunks.postings(t) is None and t not in updated.chunks.idf for t in only_gone)
    # Re-adding a chunk that is already there, or removing one that isn't, changes nothing.
    same = updated.update(final[:3], ["not-an-id"])
    assert same.ids == updated.ids


def test_save_and_load(tmp_path: Path, corpus, questions) -> None:
    ids, texts, files = corpus
    index = KeywordIndex.build(ids, texts, files, key="abc:1")
    path = tmp_path / "keyword" / "x.npz"
    index.save(path)
    loaded = KeywordIndex.load(path, "abc:1")
    assert loaded is not None and loaded.ids == ids and loaded.key == "abc:1"
    for q in questions:
        assert loaded.chunks.search(q, 20) == index.chunks.search(q, 20)
        assert loaded.by_file.search(q, 3) == index.by_file.search(q, 3)
    assert KeywordIndex.load(path, "abc:2") is None  # another generation
    assert KeywordIndex.load(tmp_path / "missing.npz") is None
    whole = path.read_bytes()
    path.write_bytes(whole[: len(whole) // 2])  # cut short, as by a full disk
    assert KeywordIndex.load(path) is None
    path.write_bytes(b"not a zip")
    assert KeywordIndex.load(path) is None
    assert not list(path.parent.glob(".*tmp"))


def test_empty_index() -> None:
    index = KeywordIndex.build([], [], [])
    assert len(index) == 0 and index.chunks.search("netflix", 5) == [] and index.by_file.search("x", 3) == []
    grown = index.update([("a", "Netflix dreht in Buenos Aires", "f.txt")], [])
    assert grown.chunks.search("netflix", 5)[0][0] == "a"
    assert grown.update([], ["a"]).chunks.search("netflix", 5) == []
