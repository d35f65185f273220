"""French text formatting for everything a person reads: numbers, shares, plurals, lists.

One convention everywhere (terminal, HTML, maps, figures, XLSX labels): digits are grouped by
three with a no-break space (U+00A0) and a no-break space separates a number from its unit
(``25,9 %``, ``12,5 km``), so that no line is ever broken inside a figure; decimals take a
comma. U+00A0 exists in every code page a French Windows console uses (cp1252, cp850), where
the narrow U+202F does not.

>>> fr_int(1234567)
'1\\xa0234\\xa0567'
>>> fr_share(0.259)
'25,9\\xa0%'
>>> fr_plural(1, "commune"), fr_plural(3, "commune")
('1 commune', '3 communes')
>>> listing(["a", "b", "c", "d", "e"])
'a, b, c et 2 autres'
"""

from __future__ import annotations

__all__ = [
    "NBSP",
    "cut",
    "fr_agree",
    "fr_decimal",
    "fr_int",
    "fr_km",
    "fr_number",
    "fr_plural",
    "fr_share",
    "listing",
    "others",
    "plain",
    "for_terminal",
    "fr_date",
    "safe",
    "sentence",
]

#: The separator of digit groups and of a number and its unit.
NBSP = "\u00a0"

#: How many names a one-line message lists before "et N autres".
LIST_MAX = 3


def fr_int(value) -> str:
    """An integer with French digit grouping: ``12345`` -> ``'12 345'`` (no-break space)."""
    return f"{int(round(float(value))):,}".replace(",", NBSP)


def fr_decimal(value: float, digits: int = 1) -> str:
    """A decimal number the French way: ``12.483`` -> ``'12,5'``, ``1234.5`` -> ``'1 234,5'``."""
    return f"{float(value):,.{digits}f}".replace(",", NBSP).replace(".", ",")


def fr_number(value) -> str:
    """An integer as :func:`fr_int`, a non-integer float with one decimal (for goals, whose
    ``,0`` is kept: :func:`fr_goal`)."""
    if isinstance(value, float) and not float(value).is_integer():
        return fr_decimal(value, 1)
    return fr_int(value)


def fr_goal(value) -> str:
    """A goal in CPTS: the national goal as the integer it is (``1 000``), an area's share of
    it with one decimal always, ``,0`` included (``12,0`` beside ``12,2``).

    >>> fr_goal(1000), fr_goal(12.0), fr_goal(57.24)
    ('1\xa0000', '12,0', '57,2')
    """
    if isinstance(value, float):
        return fr_decimal(value, 1)
    return fr_int(value)


def fr_km(value: float) -> str:
    """A distance in km, one decimal unless whole: ``12.483`` -> ``'12,5'``, ``30.0`` -> ``'30'``."""
    text = fr_decimal(value, 1)
    return text[:-2] if text.endswith(",0") else text


def fr_share(share: float, digits: int = 1) -> str:
    """A share (0-1) as a French percentage: ``0.4823`` -> ``'48,2 %'`` (no-break space)."""
    return f"{fr_decimal(100 * float(share), digits)}{NBSP}%"


def fr_plural(n: int, singular: str, plural: str | None = None) -> str:
    """``'1 commune'``, ``'2 communes'``, ``'12 345 communes'`` (French: 0 and 1 are singular)."""
    word = singular if abs(int(n)) < 2 else (plural or _plural_of(singular))
    return f"{fr_int(n)} {word}"


def fr_agree(n: int, word: str) -> str:
    """A word agreeing with ``n`` (French: 0 and 1 singular): ``fr_agree(2, "comptée")`` ->
    ``'comptées'``; the words of a phrase each take the plural as in :func:`fr_plural`."""
    return word if abs(int(n)) < 2 else _plural_of(word)


def _plural_of(word: str) -> str:
    """The plural of each word of a short phrase (``commune partagée`` -> ``communes partagées``);
    words ending in s, x or z and invariable ones (``CPTS``, ``EPCI``) are kept."""
    out = []
    for w in word.split(" "):
        if not w or w.isupper() or w[-1] in "sxz" or w in ("de", "du", "des", "à", "en", "la", "le"):
            out.append(w)
        else:
            out.append(w + "s")
    return " ".join(out)


def others(n: int) -> str:
    """``'1 autre'``, ``'4 autres'``."""
    return f"{fr_int(n)} autre{'s' if n > 1 else ''}"


def listing(items: list[str], limit: int = LIST_MAX, *, total: int | None = None) -> str:
    """``a, b et c`` / ``a, b, c et 4 autres`` / ``a, b, c et 1 autre``; ``total``: how many
    there are when ``items`` holds only the first ones."""
    items = list(items)
    total = len(items) if total is None else total
    if total > limit:
        return ", ".join(items[:limit]) + f" et {others(total - limit)}"
    if len(items) > 1:
        return ", ".join(items[:-1]) + " et " + items[-1]
    return items[0] if items else ""


def sentence(text: str) -> str:
    """``text`` ending with one full stop."""
    return text if text.endswith(".") else text + "."


def cut(text: str, n: int) -> str:
    """``text`` cut to ``n`` characters with an ellipsis."""
    return text if len(text) <= n else text[: n - 1] + "…"


def plain(text: str) -> str:
    """``text`` with its no-break spaces as plain spaces (for fonts or files that need them)."""
    return text.replace(NBSP, " ").replace("\u202f", " ")


#: Characters shown escaped when a value from an input is printed: C0 and C1 controls, DEL,
#: and the bidirectional overrides that reorder what a terminal shows.
_UNSAFE = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0))} | {
    c: f"\\u{c:04x}" for c in (0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A))
}


def safe(value, limit: int = 200) -> str:
    """A value from an input, fit for a message: control characters escaped (an ESC sequence or
    a BEL from a file cannot act on the terminal), and a huge value cut to its start and its
    length.

    >>> safe("Angers\\x1b[2J\\x07")
    'Angers\\\\x1b[2J\\\\x07'
    >>> safe("x" * 500, 10)
    'xxxxxxxxxx… (500 caractères)'
    """
    text = value if isinstance(value, str) else repr(value) if isinstance(value, bytes) else str(value)
    n = len(text)
    if n > limit:
        text = text[:limit]
    text = text.translate(_UNSAFE)
    return f"{text}… ({fr_int(n)} caractères)".replace(NBSP, " ") if n > limit else text


_TERMINAL = {c: e for c, e in _UNSAFE.items() if c not in (0x09, 0x0A)}


def for_terminal(text: str) -> str:
    """A whole report or message for the terminal: control characters other than line breaks
    and tabs escaped (whatever an input slipped into it cannot move the cursor or ring).

    >>> for_terminal("ligne 1\\nCPTS \\x1b]0;titre\\x07")
    'ligne 1\\nCPTS \\\\x1b]0;titre\\\\x07'
    """
    return text.translate(_TERMINAL)


def fr_date(iso: str) -> str:
    """A date stored ISO shown the French way: ``'2021-03-01'`` -> ``'01/03/2021'`` (other
    text unchanged)."""
    text = str(iso)
    if len(text) == 10 and text[4] == "-" and text[7] == "-" and (text[:4] + text[5:7] + text[8:]).isdigit():
        return f"{text[8:]}/{text[5:7]}/{text[:4]}"
    return text
