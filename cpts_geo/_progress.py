"""Progress of long work, for the person waiting at a terminal: the one owner of every progress
display of the tool.

The library announces its long work (:func:`track` over a loop, :func:`counter` for work that
reports ``(done, total)``, :func:`step` for a phase without a count); nothing is shown unless a
front end turns the display on with :func:`shown_on` — the CLI and ``scripts/build_reference.py``
do, on standard error, when it is a terminal. A pipe, a file, a notebook or a test gets nothing.
A display appears only once the work has lasted :data:`DELAY` seconds (quick commands stay
quiet), redraws one line at most ten times a second, and wipes that line when the work ends.

>>> from cpts_geo._progress import track
>>> sum(track(range(4), "Somme"))  # no display turned on: the items, nothing printed
6
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar
from typing import TextIO, TypeVar

__all__ = ["DELAY", "counter", "shown_on", "step", "track"]

T = TypeVar("T")

#: Seconds of work before a display appears (``CPTS_GEO_PROGRESS_DELAY`` overrides it).
DELAY = 0.5
_REDRAW = 0.1


def _delay() -> float:
    try:
        return max(float(os.environ.get("CPTS_GEO_PROGRESS_DELAY", DELAY)), 0.0)
    except ValueError:
        return DELAY


class _Display:
    """One line on a terminal stream, rewritten in place; a ticker thread keeps the elapsed
    time of a phase moving while the work does not report."""

    def __init__(self, stream: TextIO):
        self.stream = stream
        self.lock = threading.Lock()
        self.width = 0
        self.label = ""
        self.done: int | None = None
        self.total: int | None = None
        self.start = 0.0
        self.last = 0.0
        self.active = False
        self.stop = threading.Event()
        self.thread: threading.Thread | None = None

    # -- one task at a time (the innermost wins; the outer one resumes after) ----------------
    def begin(self, label: str, total: int | None) -> tuple:
        with self.lock:
            saved = (self.label, self.done, self.total, self.start, self.active)
            self.label, self.total = label, total
            self.done = 0 if total is not None else None
            self.start = time.monotonic()
            self.active = True
            self._draw(self.start)  # at once when there is no delay
        self._ensure_ticker()
        return saved

    def update(self, done: int, total: int | None = None) -> None:
        with self.lock:
            self.done = done
            if total is not None:
                self.total = total
            now = time.monotonic()
            if now - self.last >= _REDRAW or (self.total is not None and done >= self.total):
                self._draw(now)

    def end(self, saved: tuple) -> None:
        with self.lock:
            self.label, self.done, self.total, self.start, self.active = saved
            self._clear()

    def wipe(self) -> None:
        """Clear the line now (a log message is about to be written); the next draw restores it."""
        with self.lock:
            self._clear()

    def close(self) -> None:
        self.stop.set()
        if self.thread is not None:
            self.thread.join(timeout=1.0)
        with self.lock:
            self._clear()

    # -- drawing ------------------------------------------------------------------------------
    def _ensure_ticker(self) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._tick, name="cpts-geo-progress", daemon=True)
            self.thread.start()

    def _tick(self) -> None:
        while not self.stop.wait(0.25):
            with self.lock:
                if self.active:
                    self._draw(time.monotonic())

    def _line(self, now: float) -> str:
        from cpts_geo._text import fr_int

        elapsed = now - self.start
        parts = [self.label]
        if self.total:
            done = min(self.done or 0, self.total)
            frac = done / self.total
            bar = 24
            fill = int(round(frac * bar))
            parts.append(f"[{'#' * fill}{'-' * (bar - fill)}]")
            parts.append(f"{fr_int(done)}/{fr_int(self.total)}")
            parts.append(f"{round(100 * frac)} %")
        else:
            parts[0] += "…"
        parts.append(f"{int(elapsed)} s")
        return "  ".join(parts).replace(" %", "\u00a0%")

    def _draw(self, now: float) -> None:
        if not self.active or now - self.start < _delay():
            return
        cols = max(shutil.get_terminal_size((80, 24)).columns - 1, 20)
        line = self._line(now)[:cols]
        pad = max(self.width - len(line), 0)
        self._write("\r" + line + " " * pad)
        self.width = len(line)
        self.last = now

    def _clear(self) -> None:
        if self.width:
            self._write("\r" + " " * self.width + "\r")
            self.width = 0

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed terminal: the work goes on without display
            self.active = False


_DISPLAY: ContextVar[_Display | None] = ContextVar("cpts_geo_progress", default=None)


def _is_terminal(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


@contextlib.contextmanager
def shown_on(stream: TextIO | None) -> Iterator[bool]:
    """Show the progress of the work done inside the block on ``stream`` if it is a terminal
    (else show nothing); yields whether it does."""
    if stream is None or not _is_terminal(stream):
        yield False
        return
    display = _Display(stream)
    token = _DISPLAY.set(display)
    # Messages logged on the same stream (-v) are written on a clean line.
    handlers = [h for h in logging.getLogger().handlers if getattr(h, "stream", None) is stream]
    wipe = _WipeBeforeLog(display)
    for h in handlers:
        h.addFilter(wipe)
    try:
        yield True
    finally:
        for h in handlers:
            h.removeFilter(wipe)
        _DISPLAY.reset(token)
        display.close()


class _WipeBeforeLog(logging.Filter):
    def __init__(self, display: _Display):
        super().__init__()
        self.display = display

    def filter(self, record: logging.LogRecord) -> bool:
        self.display.wipe()
        return True


@contextlib.contextmanager
def counter(label: str, total: int | None = None) -> Iterator[Callable[..., None]]:
    """A block of work reporting ``(done, total)`` to the function it yields (e.g. a solver's
    ``progress`` callback)."""
    display = _DISPLAY.get()
    if display is None:
        yield _ignore
        return
    saved = display.begin(label, total)
    try:
        yield display.update
    finally:
        display.end(saved)


@contextlib.contextmanager
def step(label: str) -> Iterator[None]:
    """A phase of work without a count ("Carte HTML…"), its elapsed time kept moving."""
    with counter(label):
        yield


def track(items: Iterable[T], label: str, total: int | None = None) -> Iterator[T]:
    """The items of ``items``, one at a time, counted on the display (``total`` defaults to
    ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    if _DISPLAY.get() is None:
        yield from items
        return
    with counter(label, total) as tick:
        done = 0
        for item in items:
            yield item
            done += 1
            tick(done)


def _ignore(*_args, **_kwargs) -> None:
    return None
