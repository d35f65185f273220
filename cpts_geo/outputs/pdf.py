"""HTML to PDF with a headless Chromium, offline.

cpts-geo does not bundle a browser: :func:`find_chromium` looks for one on the machine and
:func:`html_to_pdf` runs it with ``--print-to-pdf``, with every host resolved to nothing and a
dead proxy, so that printing never touches the network (the HTML outputs are self-contained).
When no Chromium is found, :class:`ChromiumMissingError` says how to print the HTML from a
browser instead.

Examples
--------
>>> from cpts_geo.outputs.pdf import find_chromium, html_to_pdf
>>> if find_chromium():  # doctest: +SKIP
...     html_to_pdf("rapport.html", "rapport.pdf")
"""

from __future__ import annotations

import logging
import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from cpts_geo._errors import CptsGeoError, InputError

__all__ = [
    "CHROMIUM_ENV",
    "CHROMIUM_NAMES",
    "ChromiumMissingError",
    "PdfError",
    "find_chromium",
    "html_to_pdf",
]

log = logging.getLogger(__name__)

#: Environment variable naming the Chromium (or Chrome) executable to use.
CHROMIUM_ENV = "CPTS_GEO_CHROMIUM"
#: Executable names looked up on PATH, in this order.
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")

#: Headless, no network: every host resolves to nothing and the proxy is a closed port (file://
#: pages and data: URIs are unaffected); nothing is fetched in the background either.
_OFFLINE_FLAGS = (
    "--headless=new",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-extensions",
    "--disable-dev-shm-usage",
    "--mute-audio",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--run-all-compositor-stages-before-draw",
)

_PRINT_HINT = (
    "pour obtenir le PDF sans Chromium, ouvrez le rapport HTML dans un navigateur (Firefox, Edge, "
    "Chrome), faites Ctrl+P (Cmd+P sur Mac), choisissez la destination « Enregistrer au format PDF », "
    "le format de papier A4, puis « Enregistrer »"
)
_INSTALL_HINT = (
    "pour produire le PDF directement, installez Chromium (Debian/Ubuntu : sudo apt-get install "
    "chromium ; Windows, macOS : Google Chrome ou Chromium) ou indiquez le chemin de son exécutable "
    f"dans la variable d'environnement {CHROMIUM_ENV}"
)


class PdfError(CptsGeoError):
    """The PDF could not be produced (Chromium failed, timed out or wrote no PDF)."""


class ChromiumMissingError(PdfError):
    """No headless Chromium is available to print the HTML to PDF."""


def find_chromium() -> str | None:
    """The Chromium executable to print with, or None.

    ``$CPTS_GEO_CHROMIUM`` first (a path or a name on PATH; when it names nothing executable a
    warning is logged and the search goes on), then ``chromium``, ``chromium-browser``,
    ``google-chrome`` and ``google-chrome-stable`` on PATH.
    """
    env = os.environ.get(CHROMIUM_ENV, "").strip()
    if env:
        found = shutil.which(env)
        if found:
            return found
        log.warning(
            "%s=%s : aucun exécutable à ce chemin ; recherche de Chromium dans le PATH", CHROMIUM_ENV, env
        )
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess:
    """Run ``cmd`` in its own process group; on timeout kill the whole group (Chromium forks
    renderer and utility processes that would outlive a plain kill of the parent)."""
    proc = subprocess.Popen(
        cmd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except BaseException:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        proc.communicate()
        raise
    return subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def _last_line(text: str) -> str:
    lines = [ln.strip() for ln in (text or "").splitlines() if ln.strip()]
    return lines[-1][:300] if lines else "aucun message"


def html_to_pdf(
    html_path: str | Path,
    pdf_path: str | Path,
    *,
    timeout: float = 120,
    virtual_time_budget_ms: int = 10_000,
    chromium: str | None = None,
) -> Path:
    """Print the HTML page ``html_path`` to ``pdf_path`` with headless Chromium, offline.

    The page's own print stylesheet decides the layout (``@page`` size and margins); Chromium's
    header and footer (date, file URL) are turned off. Scripts run for up to
    ``virtual_time_budget_ms`` of virtual time before printing, so that maps and images are
    drawn. The PDF is written to a temporary file next to ``pdf_path`` then renamed onto it:
    ``pdf_path`` is either the complete PDF or left as it was.

    Parameters
    ----------
    html_path
        A local HTML file.
    pdf_path
        The PDF to write (its folder must exist; never one of the inputs).
    timeout
        Seconds after which Chromium is stopped.
    virtual_time_budget_ms
        Virtual time given to the page's scripts before printing.
    chromium
        The executable; default :func:`find_chromium`.

    Returns
    -------
    Path
        ``pdf_path``.

    Raises
    ------
    ChromiumMissingError
        When no Chromium is found (the message says how to print from a browser instead).
    PdfError
        When Chromium fails, times out or writes no PDF.
    InputError
        When ``html_path`` does not exist or ``pdf_path`` cannot be written.
    """
    from cpts_geo._io import atomic_write

    html_path = Path(html_path)
    if not html_path.is_file():
        raise InputError(f"{html_path} : fichier HTML introuvable ; impossible d'en faire un PDF")
    exe = chromium or find_chromium()
    if exe is None:
        raise ChromiumMissingError(
            f"PDF impossible : aucun navigateur Chromium trouvé (ni {CHROMIUM_ENV}, ni "
            f"{', '.join(CHROMIUM_NAMES)} dans le PATH) ; le rapport HTML {html_path} est complet : "
            f"{_PRINT_HINT} ; {_INSTALL_HINT}"
        )

    def write(tmp: str) -> None:
        with tempfile.TemporaryDirectory(prefix="cpts-geo-chromium-", ignore_cleanup_errors=True) as profile:
            cmd = [
                exe,
                *_OFFLINE_FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={int(virtual_time_budget_ms)}",
                "--no-pdf-header-footer",
                f"--print-to-pdf={tmp}",
                html_path.resolve().as_uri(),
            ]
            if hasattr(os, "geteuid") and os.geteuid() == 0:
                cmd.insert(1, "--no-sandbox")  # Chromium refuses to start its sandbox as root
            try:
                done = _run(cmd, timeout)
            except subprocess.TimeoutExpired:
                raise PdfError(
                    f"PDF impossible : Chromium ({exe}) n'a pas fini d'imprimer {html_path} en "
                    f"{timeout:g} s (page trop lourde, ou Chromium bloqué) ; {_PRINT_HINT}"
                ) from None
            except OSError as exc:
                raise PdfError(
                    f"PDF impossible : Chromium ({exe}) ne démarre pas ({exc.strerror or exc}) ; "
                    f"{_INSTALL_HINT}"
                ) from None
            tmp_path = Path(tmp)
            ok = tmp_path.is_file() and tmp_path.stat().st_size > 0
            if ok:
                with open(tmp_path, "rb") as fh:
                    ok = fh.read(5) == b"%PDF-"
            if done.returncode != 0 or not ok:
                raise PdfError(
                    f"PDF impossible : Chromium ({exe}) a échoué en imprimant {html_path} "
                    f"(code {done.returncode}{'' if ok else ', aucun PDF écrit'} : {_last_line(done.stderr)}) ; "
                    f"{_PRINT_HINT}"
                )
        log.info("PDF %s <- %s (Chromium %s)", pdf_path, html_path, exe)

    # atomic_write renders into a temp file of the destination folder and removes it on error.
    return atomic_write(pdf_path, write, inputs=[html_path])
