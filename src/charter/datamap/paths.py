"""A field's place in its collection: a path of names, as the YAML's nesting gives it.

Fides writes nesting with ``fields:`` under a field; a field *named*
``addr.line1`` is one plain name (a SQL column or a Redis hash field may
hold a dot). So the loader records each field's path as a tuple of names
(``("addr", "line1")`` for ``line1`` inside ``addr``; ``("addr.line1",)``
for the flat one) and no code splits a name on dots to find nesting.

Where a path must be written as one string (messages, the plan, the
console, a reference's ``field:``), :func:`shown` joins the names with dots
and puts a name that itself holds a dot (or a double quote) in double
quotes, a double quote inside doubled, as SQL quotes identifiers:
``addr.line1`` is ``line1`` inside ``addr``, ``"addr.line1"`` is the field
so named. Ordinary names read as they always did. :func:`parse` reads that
form back.
"""

from __future__ import annotations

FieldPath = tuple[str, ...]

_QUOTE = '"'


def _quoted(name: str) -> str:
    if "." in name or _QUOTE in name or not name:
        return _QUOTE + name.replace(_QUOTE, _QUOTE * 2) + _QUOTE
    return name


def shown_name(name: str) -> str:
    """One name as people read it: itself, or in double quotes when it holds a dot (``"addr.line1"``)."""
    return _quoted(name)


def shown(path: FieldPath) -> str:
    """The path as people read it: ``addr.line1`` (nested) or ``"addr.line1"`` (one name holding a dot)."""
    return ".".join(_quoted(name) for name in path)


def parse(text: str) -> FieldPath:
    """The names of a dotted text, a name in double quotes taken whole; ValueError when it is malformed."""
    names: list[str] = []
    current: list[str] = []
    quoted = False  # inside a quoted name
    was_quoted = False  # the current name was quoted (so it may be empty or hold dots)
    index = 0
    while index < len(text):
        char = text[index]
        if quoted:
            if char == _QUOTE and text[index + 1 : index + 2] == _QUOTE:
                current.append(_QUOTE)
                index += 1
            elif char == _QUOTE:
                quoted = False
            else:
                current.append(char)
        elif char == _QUOTE:
            if current or was_quoted:
                raise ValueError(f"'{text}': a quote may only open a whole name (write \"a.b\" for a name with a dot)")
            quoted = was_quoted = True
        elif char == ".":
            if not current and not was_quoted:
                raise ValueError(f"'{text}' has an empty name between dots")
            names.append("".join(current))
            current, was_quoted = [], False
        elif was_quoted:
            raise ValueError(f"'{text}': a quoted name must end at a dot or the end of the text")
        else:
            current.append(char)
        index += 1
    if quoted:
        raise ValueError(f"'{text}' has a quote that is never closed")
    if not current and not was_quoted:
        raise ValueError(f"'{text}' has an empty name" if text else "the path is empty")
    names.append("".join(current))
    return tuple(names)


def reference_path(text: str) -> tuple[str, ...] | None:
    """A reference's ``field:`` (``collection.field``, a nested field's names after it) as names, the
    collection first; None when it is malformed or names no field (``check`` reports it, with the fix)."""
    try:
        names = parse(text)
    except ValueError:
        return None
    return names if len(names) >= 2 else None
