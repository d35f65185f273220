"""Progress of long work: shown on standard error when it is a terminal, nothing otherwise."""

from __future__ import annotations

import io
import logging
import os
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cpts_geo import _progress
from cpts_geo._progress import counter, shown_on, step, track

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "data" / "examples" / "registre_fictif_pays_de_la_loire.csv"


class FakeTerminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.fixture
def no_delay(monkeypatch):
    monkeypatch.setenv("CPTS_GEO_PROGRESS_DELAY", "0")
    monkeypatch.setattr(_progress, "_REDRAW", 0.0)


def test_nothing_is_shown_unless_a_front_end_asks(no_delay):
    assert list(track(range(3), "Rien")) == [0, 1, 2]
    with counter("Rien", 3) as tick:
        tick(1, 3)
    with step("Rien"):
        pass


def test_nothing_on_a_stream_that_is_no_terminal(no_delay):
    out = io.StringIO()
    with shown_on(out) as shown:
        assert list(track(range(3), "Somme")) == [0, 1, 2]
    assert shown is False and out.getvalue() == ""
    with shown_on(None) as shown:
        assert not shown


def test_a_terminal_sees_the_count_then_a_clean_line(no_delay):
    term = FakeTerminal()
    with shown_on(term) as shown:
        assert shown
        assert sum(track(range(5), "Vérification des CPTS")) == 10
        after_loop = term.getvalue()
    lines = after_loop.split("\r")
    assert "Vérification des CPTS  [########################]  5/5  100\u00a0%  0 s" in lines
    assert "Vérification des CPTS  [#####-------------------]  1/5  20\u00a0%  0 s" in lines
    assert after_loop.endswith("\r" + " " * len(lines[-2]) + "\r")  # wiped at the end


def test_phases_and_nested_work(no_delay):
    term = FakeTerminal()
    with shown_on(term):
        with step("Carte HTML"):
            with counter("Partition des zones blanches") as tick:
                tick(50, 200)
            _progress._DISPLAY.get()._draw(time.monotonic())  # the ticker's redraw of the outer phase
    text = term.getvalue()
    assert "Partition des zones blanches  [######------------------]  50/200  25\u00a0%" in text
    assert "\rCarte HTML…  " in text


def test_quick_work_shows_nothing_even_on_a_terminal(monkeypatch):
    monkeypatch.delenv("CPTS_GEO_PROGRESS_DELAY", raising=False)
    term = FakeTerminal()
    with shown_on(term):
        list(track(range(1000), "Rapide"))
    assert term.getvalue() == ""


def test_log_messages_are_written_on_a_clean_line(no_delay):
    term = FakeTerminal()
    handler = logging.StreamHandler(term)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        with shown_on(term):
            for i in track(range(3), "Travail"):
                if i == 1:
                    logging.getLogger("cpts_geo.test").warning("au milieu")
    finally:
        root.removeHandler(handler)
    text = term.getvalue()
    before = text[: text.index("au milieu")]
    # the line of progress was wiped just before the message: spaces then a carriage return
    assert before.endswith(" \r") and "Travail  [" in before


def _on_a_terminal(args: list[str], **env) -> tuple[str, int]:
    """Run ``args`` with standard error on a pseudo-terminal; what it wrote there, and the exit code."""
    import pty

    master, slave = pty.openpty()
    proc = subprocess.Popen(
        args,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=slave,
        env={**os.environ, "CPTS_GEO_PROGRESS_DELAY": "0", **env},
        cwd=ROOT,
    )
    os.close(slave)
    chunks = []
    while True:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 65536)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            chunks.append(chunk)
        elif proc.poll() is not None:
            break
    os.close(master)
    return b"".join(chunks).decode("utf-8", "replace"), proc.wait(timeout=60)


CLI = [sys.executable, "-m", "cpts_geo"]


@pytest.mark.national
def test_commands_show_progress_on_a_terminal_only(tmp_path):
    text, code = _on_a_terminal([*CLI, "check-register", str(EXAMPLE)])
    assert code == 1, text  # the example register has failing CPTS
    assert "\rVérification des CPTS  [########################]  60/60  100\u00a0%" in text
    assert "\rLecture du registre…" in text
    text, code = _on_a_terminal(
        [*CLI, "coverage-map", str(EXAMPLE), "--departement", "49", "-o", str(tmp_path / "c.html")]
    )
    assert code == 0 and "\rCarte HTML…" in text, text
    text, code = _on_a_terminal([*CLI, "suggest", "--existing", str(EXAMPLE), "--departement", "49"])
    assert code in (0, 1) and "\rPartition des zones blanches  [" in text, text
    batch = tmp_path / "propositions"
    batch.mkdir()
    for name in ("proposition_valide.csv", "proposition_enclave.csv", "proposition_belle_ile.csv"):
        (batch / name).write_bytes((EXAMPLE.parent / name).read_bytes())
    text, code = _on_a_terminal([*CLI, "check", str(batch)])
    assert "\rVérification des propositions  [########################]  3/3  100\u00a0%" in text, text
    # The same command on a pipe: its messages, no progress.
    res = subprocess.run(
        [*CLI, "check-register", str(EXAMPLE)],
        capture_output=True,
        text=True,
        env={**os.environ, "CPTS_GEO_PROGRESS_DELAY": "0"},
        cwd=ROOT,
    )
    assert res.returncode == 1
    assert "Vérification des CPTS" not in res.stderr and "\r" not in res.stderr
