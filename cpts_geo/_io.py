"""Writing outputs safely: atomically (temp file + rename), never over an input."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

from ._errors import InputError

__all__ = ["atomic_write", "atomic_write_bytes", "atomic_write_text", "check_output_path"]


def check_output_path(out: str | Path, inputs: Iterable[str | Path | None] = ()) -> Path:
    """Refuse an output path that is one of the inputs (or an existing folder)."""
    out = Path(out)
    for inp in inputs:
        if inp is None:
            continue
        try:
            if Path(inp).exists() and out.exists() and os.path.samefile(out, inp):
                raise InputError(f"{out} : le fichier de sortie est aussi un fichier d'entrée ; "
                                 "choisissez un autre nom avec -o")
        except OSError:
            continue
    if out.is_dir():
        raise InputError(f"{out} : est un dossier ; donnez un nom de fichier avec -o")
    if not out.parent.exists():
        raise InputError(f"{out} : le dossier {out.parent} n'existe pas")
    return out


def atomic_write(out: str | Path, write: Callable[[str], None], *, inputs=()) -> Path:
    """Call ``write(tmp_path)`` then rename the temp file onto ``out``.

    The temp file is in the same folder, so the rename is atomic; on error it is removed and
    ``out`` is left untouched.
    """
    out = check_output_path(out, inputs)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return out


def atomic_write_text(out: str | Path, text: str, *, inputs=(), encoding: str = "utf-8") -> Path:
    """Write text atomically (see :func:`atomic_write`)."""
    return atomic_write(out, lambda p: Path(p).write_text(text, encoding=encoding), inputs=inputs)


def atomic_write_bytes(out: str | Path, data: bytes, *, inputs=()) -> Path:
    """Write bytes atomically (see :func:`atomic_write`)."""
    return atomic_write(out, lambda p: Path(p).write_bytes(data), inputs=inputs)
