"""Writing outputs safely: atomically (temp file + rename), never over an input or a
non-regular file, with the destination's permissions kept.

Every command validates all its output paths first (:func:`check_outputs`) so that nothing is
written when one of them is refused.
"""

from __future__ import annotations

import os
import stat
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from cpts_geo._errors import InputError

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "check_output_path", "check_outputs"]


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except (ValueError, OSError):
        return False


def check_output_path(out: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    """Refuse an output path that is an input (or inside an input folder, such as the reference
    folder), an existing folder, a device, a FIFO or another non-regular file, or whose folder
    does not exist."""
    out = Path(out)
    for inp in inputs:
        if inp is None:
            continue
        inp = Path(inp)
        same = False
        try:
            same = inp.exists() and out.exists() and os.path.samefile(out, inp)
        except OSError:
            same = False
        if same or (inp.is_dir() and _inside(out, inp)):
            what = "est aussi un fichier d'entrée" if same else f"est dans le dossier d'entrée {inp}"
            raise InputError(f"{out} : le fichier de sortie {what} ; choisissez un autre nom avec -o")
    if out.is_dir():
        raise InputError(f"{out} : est un dossier ; donnez un nom de fichier avec -o")
    if out.exists() or out.is_symlink():
        try:
            mode = out.stat().st_mode
        except OSError as exc:
            raise InputError(f"{out} : sortie inaccessible ({exc.strerror})") from None
        if not stat.S_ISREG(mode):
            raise InputError(
                f"{out} : n'est pas un fichier ordinaire (périphérique, tube ou socket) ; "
                "donnez un nom de fichier avec -o"
            )
    if not out.parent.exists():
        raise InputError(f"{out} : le dossier {out.parent} n'existe pas")
    return out


def check_outputs(
    outputs: Iterable[str | Path | None], inputs: Iterable[str | Path | None] = ()
) -> list[Path]:
    """Check every output path of a command before anything is written: each as
    :func:`check_output_path`, and no two the same file."""
    inputs = [i for i in inputs if i is not None]
    seen: dict[str, Path] = {}
    out = []
    for path in outputs:
        if path is None:
            continue
        p = check_output_path(path, inputs)
        key = os.path.normcase(os.path.abspath(p))
        if key in seen:
            raise InputError(
                f"{p} : deux sorties de la commande ont le même chemin ; donnez-leur des noms différents"
            )
        seen[key] = p
        out.append(p)
    return out


def _mode_for(out: Path) -> int:
    """The destination's permissions, or those a new file gets under the umask."""
    try:
        return stat.S_IMODE(out.stat().st_mode)
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(out: str | Path, write: Callable[[str], object], *, inputs=()) -> Path:
    """Call ``write(tmp_path)`` then rename the temp file onto ``out``.

    The temp file is in the same folder, so the rename is atomic; on any error (or an
    interruption) it is removed and ``out`` is left untouched. The destination's permissions
    are kept (a new file gets the umask's). A failure of the file system is an
    :class:`InputError` naming ``out``.
    """
    out = check_output_path(out, inputs)
    mode = _mode_for(out)
    try:
        fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
        os.close(fd)
    except OSError as exc:
        raise InputError(f"{out} : écriture impossible ({exc.strerror or exc})") from None
    try:
        write(tmp)
        os.chmod(tmp, mode)
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise InputError(f"{out} : écriture impossible ({exc.strerror or exc})") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def atomic_write_text(
    out: str | Path, text: str | Iterable[str], *, inputs=(), encoding: str = "utf-8"
) -> Path:
    """Write text atomically (see :func:`atomic_write`); ``text`` may come in pieces (a large
    report written as it is made)."""

    def write(p: str) -> None:
        if isinstance(text, str):
            Path(p).write_text(text, encoding=encoding)
            return
        with open(p, "w", encoding=encoding) as fh:
            for piece in text:
                fh.write(piece)

    return atomic_write(out, write, inputs=inputs)


def atomic_write_bytes(out: str | Path, data: bytes, *, inputs=()) -> Path:
    """Write bytes atomically (see :func:`atomic_write`)."""

    def write(p: str) -> None:
        Path(p).write_bytes(data)

    return atomic_write(out, write, inputs=inputs)
