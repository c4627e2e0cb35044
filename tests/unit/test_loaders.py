import pytest

from ingest.loaders import html_to_text, load
from rag.errors import FileRejected


def test_utf8_and_bom(tmp_path):
    p = tmp_path / "a.txt"
    p.write_bytes("\ufeffGrüße aus München".encode())
    assert load(p).text == "Grüße aus München"


def test_latin1_is_decoded_not_skipped(tmp_path):
    p = tmp_path / "alt.txt"
    p.write_bytes("Die Größe der Bühne überraschte. Schöne Grüße.".encode("latin-1"))
    doc = load(p)
    assert doc.text == "Die Größe der Bühne überraschte. Schöne Grüße."
    assert doc.encoding in {"cp1252", "latin-1"}


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("empty.txt", b"", "empty"),
        ("blob.txt", b"\x00\x01\x02PNG\x00" * 100, "binary"),
        ("ctrl.txt", bytes(range(1, 9)) * 500, "binary"),
        ("image.png", b"\x89PNG", "unsupported"),
    ],
)
def test_rejects_with_the_file_and_reason(tmp_path, name, data, reason):
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(FileRejected) as err:
        load(p)
    assert name in str(err.value) and reason in str(err.value)


def test_html_keeps_text_and_drops_scripts():
    text = html_to_text("<html><head><title>x</title><script>alert(1)</script></head>"
                        "<body><h1>Titel</h1><p>Ein &amp; zwei</p><style>p{}</style></body></html>")
    assert "alert" not in text and "p{}" not in text
    assert "Titel" in text and "Ein & zwei" in text
