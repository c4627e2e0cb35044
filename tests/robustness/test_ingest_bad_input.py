"""Bad files in the corpus folder: each is skipped with a reason that names it,
or (when it is good text in an odd shape) indexed correctly; the rest of the
index is never disturbed."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest

from ingest.chunking import chunk_text
from ingest.loaders import load
from rag.answering.citations import problems
from rag.errors import CorpusNotFoundError

from .conftest import Sandbox, run_rag

pytestmark = pytest.mark.slow  # every test here runs the real engine on a copy of the baseline index

LATIN1_TEXT = (
    "Größenwahn in der Straßenbahn\n\n"
    "Die Übersetzerin Jürgen Müßig-Schäfer erklärte, dass die Bürgerinitiative für grüne Straßenbahnen "
    "in Kärnten über zwölf Jahre lang gekämpft hat. Die Schöffen äußerten sich am Dienstag erfreut.\n\n"
    "Laut Müßig-Schäfer fährt die neue Straßenbahn täglich zwölfmal über die Brücke nach Übersee. "
    "Eine Fahrt kostet drei Euro fünfzig, für Schüler ermäßigt.\n"
)
UMLAUT_WORDS = ("Größenwahn", "Straßenbahn", "Müßig-Schäfer", "äußerten", "Übersee", "ermäßigt")


def _random_bytes_without_nul(n: int) -> bytes:
    rng = random.Random(7)
    return bytes(rng.randrange(1, 256) for _ in range(n))


def skipped(report, name: str) -> str:
    """The reason ``name`` was skipped; fails if it wasn't."""
    reasons = {s.file: s.reason for s in report.skipped}
    assert name in reasons, f"{name} not in skipped: {report.skipped}"
    return reasons[name]


# -- files that must be refused ------------------------------------------------------


def test_empty_file(sandbox: Sandbox) -> None:
    (sandbox.corpus / "leer.txt").write_bytes(b"")
    (sandbox.corpus / "blank.md").write_text("  \n\n\t \n")
    report = sandbox.ingest()
    assert skipped(report, "leer.txt") == "the file is empty"
    assert skipped(report, "blank.md") == "the file has no text"
    assert report.added == report.removed == 0
    sandbox.assert_unchanged()


@pytest.mark.parametrize(
    "name, data",
    [
        ("image.txt", bytes.fromhex("89504e470d0a1a0a0000000d49484452") + bytes(range(256)) * 40),
        ("no-nul.txt", _random_bytes_without_nul(20000)),
        ("late-nul.md", ("Ein ganz normaler Satz. " * 600).encode() + b"\x00\x01\x02binary tail"),
        ("elf.html", b"\x7fELF\x02\x01\x01" + bytes(500)),
    ],
)
def test_binary_file(sandbox: Sandbox, name: str, data: bytes) -> None:
    (sandbox.corpus / name).write_bytes(data)
    report = sandbox.ingest()
    reason = skipped(report, name)
    assert "binary" in reason or "can't be decoded" in reason, reason
    sandbox.assert_unchanged()


def test_corrupt_pdf(sandbox: Sandbox) -> None:
    (sandbox.corpus / "kaputt.pdf").write_bytes(b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\ngarbage")
    report = sandbox.ingest()
    assert skipped(report, "kaputt.pdf").startswith("can't read the PDF")
    sandbox.assert_unchanged()


def test_unsupported_file_type_is_reported(sandbox: Sandbox) -> None:
    (sandbox.corpus / "notes.docx").write_bytes(b"PK\x03\x04 word document")
    (sandbox.corpus / "README").write_text("no suffix")
    report = sandbox.ingest()
    assert skipped(report, "notes.docx").startswith("unsupported file type '.docx'")
    assert skipped(report, "README").startswith("unsupported file type '(none)'")
    sandbox.assert_unchanged()


def test_50_mb_file_is_refused_without_reading_it(sandbox: Sandbox) -> None:
    line = b"Netflix hat in El Eternauta eine Szene mit generativer KI erstellt, zehnmal schneller.\n"
    big = sandbox.corpus / "riesig.txt"
    with big.open("wb") as fh:
        for _ in range(50_000_000 // len(line) + 1):
            fh.write(line)
    assert big.stat().st_size >= 50_000_000
    report = sandbox.ingest()
    assert skipped(report, "riesig.txt") == "the file is 50 MB; files over 20 MB are not ingested"
    sandbox.assert_unchanged()


def test_fifo_named_like_an_article_does_not_hang(sandbox: Sandbox) -> None:
    os.mkfifo(sandbox.corpus / "pipe.txt")
    report = sandbox.ingest()
    assert skipped(report, "pipe.txt") == "not a regular file"
    sandbox.assert_unchanged()


def test_symlink_outside_the_corpus_is_not_followed(sandbox: Sandbox, clean_tmp: Path) -> None:
    secret = clean_tmp / "secret.txt"
    secret.write_text("TOPSECRET-7f3a: the root password is hunter2. Netflix El Eternauta zehnmal.\n")
    (clean_tmp / "private").mkdir()
    (clean_tmp / "private" / "more.txt").write_text("TOPSECRET-7f3a in a linked folder.\n")
    (sandbox.corpus / "link.txt").symlink_to(secret)
    (sandbox.corpus / "linked-dir").symlink_to(clean_tmp / "private")
    report = sandbox.ingest()
    reason = skipped(report, "link.txt")
    assert "outside the corpus folder; not followed" in reason, reason
    sandbox.assert_unchanged()
    _, texts, _ = sandbox.bot.index.all_texts()
    assert not any("TOPSECRET" in t for t in texts)


def test_symlink_inside_the_corpus_is_a_duplicate(sandbox: Sandbox) -> None:
    (sandbox.corpus / "zz-link.txt").symlink_to(sandbox.corpus / "003_b27880a03e2c9224.txt")
    report = sandbox.ingest()
    assert skipped(report, "zz-link.txt") == "same text as 003_b27880a03e2c9224.txt; indexed once"
    sandbox.assert_unchanged()


@pytest.mark.parametrize("copy_name", ["000_kopie.txt", "zzz copy of 001.md"])
def test_duplicate_under_a_new_name_is_indexed_once(sandbox: Sandbox, copy_name: str) -> None:
    # "000_kopie.txt" sorts before the original: the already-indexed original must still win.
    original = "001_795e8594a4bac91d.txt"
    (sandbox.corpus / copy_name).write_bytes((sandbox.corpus / original).read_bytes())
    report = sandbox.ingest()
    assert skipped(report, copy_name) == f"same text as {original}; indexed once"
    assert report.added == report.removed == 0
    sandbox.assert_unchanged()


def test_missing_folder(sandbox: Sandbox) -> None:
    missing = sandbox.corpus.parent / "gibt-es-nicht"
    with pytest.raises(CorpusNotFoundError, match="doesn't exist") as info:
        sandbox.ingest(missing)
    assert str(missing) in info.value.message
    sandbox.assert_unchanged()


def test_missing_folder_through_the_cli(sandbox: Sandbox) -> None:
    done = run_rag("ingest", "-q", sandbox.corpus.parent / "nope", home=sandbox.home)
    assert done.returncode == 2
    assert done.stderr.startswith("error: The corpus folder ") and "doesn't exist" in done.stderr
    assert "Traceback" not in done.stderr
    sandbox.assert_unchanged()


def test_file_instead_of_folder(sandbox: Sandbox) -> None:
    with pytest.raises(CorpusNotFoundError, match="is not a folder"):
        sandbox.ingest(sandbox.corpus / "001_795e8594a4bac91d.txt")
    sandbox.assert_unchanged()


def test_folder_with_nothing_readable_leaves_the_index_alone(sandbox: Sandbox, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(CorpusNotFoundError, match="holds no readable articles.*left unchanged"):
        sandbox.ingest(empty)
    junk = tmp_path / "junk"
    junk.mkdir()
    (junk / "x.txt").write_bytes(b"\x00\x01")
    with pytest.raises(CorpusNotFoundError, match=r"x\.txt: looks binary"):
        sandbox.ingest(junk)
    sandbox.assert_unchanged()


# -- odd but good text: indexed, exactly ---------------------------------------------


@pytest.mark.parametrize(
    "name, encoding",
    [("latin1.txt", "latin-1"), ("cp1252.md", "cp1252"), ("utf16.txt", "utf-16"), ("utf8-bom.txt", "utf-8-sig")],
)
def test_legacy_encodings_are_decoded_and_indexed(sandbox: Sandbox, name: str, encoding: str) -> None:
    (sandbox.corpus / name).write_bytes(LATIN1_TEXT.encode(encoding))
    report = sandbox.ingest()
    assert name not in {s.file for s in report.skipped}, report.skipped
    expected = chunk_text(name, LATIN1_TEXT)
    assert report.added == len(expected) and report.removed == 0
    sandbox.assert_grew_by(expected)
    stored = "\n".join(sandbox.texts_of(name))
    for word in UMLAUT_WORDS:
        assert word in stored, (word, stored)
    assert "Ã" not in stored and "\ufffd" not in stored and "\ufeff" not in stored

    answer = sandbox.ask("Wie oft fährt die neue Straßenbahn täglich über die Brücke?")
    assert not answer.abstained, answer.text
    assert answer.citations[0].file == name and "zwölfmal" in answer.text
    assert problems(answer, sandbox.corpus) == []
    again = sandbox.ingest()
    assert again.added == again.removed == 0


def test_cyrillic_legacy_encoding_is_not_read_as_latin1(tmp_path: Path) -> None:
    text = (
        "Сериал «Этернавт» стал первым проектом Netflix, в котором генеративный искусственный интеллект "
        "использовался для финальных кадров. Сцена обрушения здания была создана в десять раз быстрее.\n"
    )
    path = tmp_path / "ru.txt"
    path.write_bytes(text.encode("cp1251"))
    assert load(path).text == text


def test_unicode_and_spaces_in_names(sandbox: Sandbox) -> None:
    name = "Über KI – Bericht Nr. 7 (Ärzte) 🎬.txt"
    text = (
        "Ärztekammer warnt vor KI-Diagnosen\n\n"
        "Die Ärztekammer in Graz veröffentlichte am Montag eine Warnung: Diagnosen durch Chatbots seien "
        "in elf von zwanzig Testfällen falsch gewesen. Die Kammer fordert eine Kennzeichnungspflicht.\n"
    )
    (sandbox.corpus / name).write_text(text, encoding="utf-8")
    sub = sandbox.corpus / "Unterordner mit Ümlaut"
    sub.mkdir()
    (sub / "zweite Datei.md").write_text("Der Zoo in Linz zählt 412 Flamingos, meldete die Zooleitung.\n")
    # A name that isn't UTF-8 at all (as unpacked from an old zip) can't be cited: refused by name.
    bad_name = os.fsencode(sandbox.corpus) + b"/Gr\xf6\xdfe.txt"
    with open(bad_name, "wb") as fh:
        fh.write(b"Some text that would be fine.\n")

    report = sandbox.ingest()
    assert skipped(report, "Gr\\xf6\\xdfe.txt") == "the file name isn't valid UTF-8; rename the file"
    expected = chunk_text(name, text) + chunk_text(
        "Unterordner mit Ümlaut/zweite Datei.md", (sub / "zweite Datei.md").read_text()
    )
    sandbox.assert_grew_by(expected)

    answer = sandbox.ask("In wie vielen Testfällen waren die Chatbot-Diagnosen falsch?")
    assert answer.citations and answer.citations[0].file == name, answer
    assert problems(answer, sandbox.corpus) == []
    answer = sandbox.ask("Wie viele Flamingos hat der Zoo in Linz?")
    assert answer.citations[0].file == "Unterordner mit Ümlaut/zweite Datei.md"

    done = run_rag("ingest", "-q", sandbox.corpus, home=sandbox.home)  # the CLI prints every name
    assert done.returncode == 0, done.stderr
    assert "skipped Gr\\xf6\\xdfe.txt: the file name isn't valid UTF-8" in done.stderr


def test_windows_line_endings_keep_citations_exact(sandbox: Sandbox) -> None:
    text = "Bericht aus Wien\r\n\r\nDer Wiener Prater meldete 3,7 Millionen Besucher im Jahr 2024.\r\nDas ist ein Rekord.\r\n"
    (sandbox.corpus / "crlf.txt").write_bytes(text.encode())
    sandbox.ingest()
    sandbox.assert_grew_by(chunk_text("crlf.txt", text))
    answer = sandbox.ask("Wie viele Besucher hatte der Prater 2024?")
    assert answer.citations[0].file == "crlf.txt" and "3,7 Millionen" in answer.text
    assert problems(answer, sandbox.corpus) == []


def test_rejected_file_keeps_its_old_passages(sandbox: Sandbox) -> None:
    """A file that turns bad (e.g. half-written by a download) keeps what was indexed before."""
    victim = sandbox.corpus / "001_795e8594a4bac91d.txt"
    victim.write_bytes(b"\x00" * 100)
    report = sandbox.ingest()
    assert "binary" in skipped(report, victim.name)
    sandbox.assert_unchanged()
