"""Chroma server mode against a real ``chroma run`` on loopback.

One server (temporary data folder, free port) is shared by the module. The
engine ingests and answers through ``HttpClient``; the server is restarted
and the answer must be the same; then it is stopped and the user must get a
one-line error, not a traceback.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

QUESTION = "How much faster was the AI scene?"
CHROMA = shutil.which("chroma") or str(Path(sys.executable).with_name("chroma"))



def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChromaServer:
    """``chroma run`` in its own process group, restartable on the same port and data."""

    def __init__(self, path: Path, log: Path) -> None:
        self.path = path
        self.log = log
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 60.0) -> None:
        assert Path(CHROMA).exists(), f"{CHROMA} is missing: the chroma CLI comes with chromadb; run scripts/setup dev"
        with open(self.log, "a") as log:
            self.proc = subprocess.Popen(
                [CHROMA, "run", "--path", str(self.path), "--host", "127.0.0.1", "--port", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"chroma run exited with {self.proc.returncode}: {self.log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        self.stop()
        pytest.fail(f"chroma run didn't answer within {timeout:.0f} s: {self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=15)
        except ProcessLookupError:
            pass
        # The port must be free before a restart binds it again.
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) != 0:
                    return
            time.sleep(0.1)

    def restart(self) -> None:
        self.stop()
        self.start()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Iterator[ChromaServer]:
    root = tmp_path_factory.mktemp("chroma-server")
    srv = ChromaServer(root / "data", root / "chroma.log")
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()


def _env(home: Path, corpus: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAG_")}
    env.update(RAG_HOME=str(home), RAG_ARTICLES_DIR=str(corpus), RAG_CHROMA_URL=url, HF_HUB_OFFLINE="1")
    return env


def _rag(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        check=False,
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )


def _essence(answer: dict) -> tuple:
    return answer["text"], [
        (c["file"], c["char_start"], c["char_end"], c["quote"]) for c in answer["citations"]
    ]


@pytest.mark.slow
def test_ingest_ask_restart_and_stop(
    server: ChromaServer, corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import chromadb

    from rag import Assistant, Settings
    from rag.errors import StoreUnavailableError

    home = tmp_path / "home"
    env = _env(home, corpus, server.url)
    settings = Settings.from_env(env=env)
    assert settings.chroma_url == server.url

    # Ingest and ask through the server, in process.
    bot = Assistant(settings, auto_ingest=False)
    report = bot.ingest(corpus)
    assert report.added > 0 and report.removed == 0
    first = bot.ask(QUESTION).to_dict()
    assert not first["abstained"] and first["citations"]
    assert not (home / "chroma").exists(), "server mode must not create the embedded store"
    names = {c.name for c in chromadb.HttpClient(host="127.0.0.1", port=server.port).list_collections()}
    assert bot.index.name in names and bot.index.name + "__s" in names

    # A fresh process sees the same index and gives the same answer; re-ingest embeds nothing.
    done = _rag("ask", "--json", QUESTION, env=env)
    assert done.returncode == 0, done.stderr
    assert _essence(json.loads(done.stdout)) == _essence(first)
    again = _rag("ingest", "-q", str(corpus), env=env)
    assert again.returncode == 0, again.stderr
    assert f"0 added, 0 removed, {report.added} unchanged" in again.stdout

    # Restart the server: the data persists, the same client reconnects.
    server.restart()
    assert _essence(bot.ask(QUESTION).to_dict()) == _essence(first)
    done = _rag("ask", "--json", QUESTION, env=env)
    assert done.returncode == 0, done.stderr
    assert _essence(json.loads(done.stdout)) == _essence(first)

    # Stop it: a clear one-line error, no traceback, a non-zero exit.
    server.stop()
    for args in (("ask", QUESTION), ("ingest", "-q", str(corpus))):
        done = _rag(*args, env=env)
        assert done.returncode != 0
        assert "Traceback" not in done.stderr + done.stdout
        lines = [ln for ln in done.stderr.splitlines() if ln.strip()]
        assert lines and lines[-1].startswith(f"error: Can't reach the Chroma server at {server.url}"), (
            done.stderr
        )
        assert len([ln for ln in lines if ln.startswith("error:")]) == 1

    # An Assistant that was connected gets the same kind of error, not a raw client exception.
    # With no recheck interval, the next question consults the store instead of cached counts.
    monkeypatch.setattr("rag.retrieval.retriever.RECHECK_SECONDS", 0.0)
    monkeypatch.setattr("rag.retrieval.lexicon.RECHECK_SECONDS", 0.0)
    with pytest.raises(StoreUnavailableError, match="Can't reach the Chroma server"):
        bot.ask("Who directed the series?")
    server.start()  # leave it running for any later test in the module


def test_embedded_store_is_the_default(tmp_path: Path) -> None:
    from rag import Settings
    from rag.retrieval.chroma_client import make_client

    settings = Settings.from_env(env={}, home=tmp_path)
    assert settings.chroma_url is None
    client = make_client(settings)
    assert client.heartbeat() > 0
    assert (tmp_path / "chroma").is_dir()


def test_unreachable_server_is_a_clear_error(tmp_path: Path) -> None:
    from rag import Settings
    from rag.errors import StoreUnavailableError
    from rag.retrieval.chroma_client import make_client

    url = f"http://127.0.0.1:{_free_port()}"
    with pytest.raises(StoreUnavailableError) as info:
        make_client(Settings.from_env(env={"RAG_CHROMA_URL": url}, home=tmp_path))
    assert info.value.message.startswith(f"Can't reach the Chroma server at {url}")
    assert "RAG_CHROMA_URL" in info.value.message
