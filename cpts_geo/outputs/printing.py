"""Print stylesheet of the HTML check report (A4, for a CATS/CTS dossier) and static map images.

On screen the report shows the interactive map (an ``<iframe>``); on paper, and in the PDF that
:func:`cpts_geo.outputs.pdf.html_to_pdf` prints, the iframe is hidden and a static image of the same
map (``<img class="carte-statique">``, the matplotlib figure embedded with
:func:`png_data_uri`) takes its place. Layout on paper:

- A4 portrait, margins of 16 to 18 mm; each page's top margin holds the report's title (left)
  and the date of the run (right), its bottom margin "page N / M" (CSS page-margin boxes,
  Chromium 131 and later; the content is written into the CSS by :func:`print_css`);
- page 1: the title, the key figures, the summary table and the map (the first two ``h2``
  sections of ``main``); every later ``h2`` of ``main`` starts a new page, as does any element
  of class ``nouvelle-page`` (``sans-saut`` cancels it);
- a table row is never split across pages, and a long table repeats its header row;
- colours (badges, swatches) are printed as on screen.

Examples
--------
>>> from cpts_geo.outputs.printing import print_css, static_map_img
>>> css = print_css(title="Vérification du territoire — CPTS Loire", date="01/12/2026")
>>> "@page" in css and "Vérification du territoire" in css
True
>>> static_map_img(b"\\x89PNG\\r\\n\\x1a\\n...").startswith('<img class="carte-statique"')
True
"""

from __future__ import annotations

import base64
import html
import io

from cpts_geo.maps.static import asset

__all__ = ["PRINT_CSS", "STATIC_MAP_CLASS", "png_data_uri", "print_css", "static_map_img"]

#: Class of the static map image shown in print only.
STATIC_MAP_CLASS = "carte-statique"

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

#: The print rules that do not depend on the report (no page-margin header): the iframe/static
#: image swap (class :data:`STATIC_MAP_CLASS`), page breaks, tables, from ``print.css`` of
#: :mod:`cpts_geo.maps.static`. :func:`print_css` adds the header and footer.
PRINT_CSS = asset("print.css")


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal, safe inside an HTML <style> element."""
    out = []
    for ch in str(text):
        if ch in '"\\<>&' or ord(ch) < 0x20 or ch == "\x7f":
            out.append(f"\\{ord(ch):x} ")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def print_css(*, title: str, date: str) -> str:
    """The report's print stylesheet: :data:`PRINT_CSS` and an A4 ``@page`` whose top margin
    holds ``title`` (left) and ``date`` (right) on every page, and the bottom margin
    "page N / M".

    Parameters
    ----------
    title
        The report's title, e.g. "Vérification du territoire — CPTS du Saumurois".
    date
        The date of the run as it should read, e.g. "01/12/2026".
    """
    margin_box = "font: 8pt system-ui, Arial, sans-serif; color: #555;"
    return f"""
@page {{
  size: A4 portrait;
  margin: 18mm 14mm 16mm 14mm;
  @top-left {{ content: {_css_string(title)}; {margin_box} vertical-align: bottom; }}
  @top-right {{ content: {_css_string("Édité le " + date)}; {margin_box} vertical-align: bottom; }}
  @bottom-right {{ content: "page " counter(page) " / " counter(pages); {margin_box} }}
}}
{PRINT_CSS}"""


def png_data_uri(fig_or_png_bytes, *, dpi: int = 150) -> str:
    """A ``data:image/png;base64,...`` URI of a matplotlib figure or of PNG bytes.

    Parameters
    ----------
    fig_or_png_bytes
        A :class:`matplotlib.figure.Figure` (saved with a tight bounding box at ``dpi``) or the
        bytes of a PNG file.
    dpi
        Resolution of a figure (150 keeps a full-width A4 map sharp at about 200 kB).

    Raises
    ------
    TypeError
        When given bytes that are not a PNG, or something that is neither bytes nor a figure.
    """
    if isinstance(fig_or_png_bytes, bytes | bytearray | memoryview):
        data = bytes(fig_or_png_bytes)
        if not data.startswith(_PNG_SIGNATURE):
            raise TypeError("png_data_uri : les octets reçus ne sont pas une image PNG")
    elif hasattr(fig_or_png_bytes, "savefig"):
        buf = io.BytesIO()
        fig_or_png_bytes.savefig(buf, format="png", dpi=dpi, bbox_inches="tight")
        data = buf.getvalue()
    else:
        raise TypeError(
            f"png_data_uri : figure matplotlib ou octets PNG attendus, reçu {type(fig_or_png_bytes).__name__}"
        )
    return "data:image/png;base64," + base64.b64encode(data).decode("ascii")


def static_map_img(fig_or_png_bytes, *, alt: str = "Carte du territoire", dpi: int = 150) -> str:
    """The ``<img class="carte-statique">`` shown in print in place of the interactive map."""
    return (
        f'<img class="{STATIC_MAP_CLASS}" alt="{html.escape(alt, quote=True)}" '
        f'src="{png_data_uri(fig_or_png_bytes, dpi=dpi)}">'
    )
