"""Text in templates outside translation tags (issue 16 item 9, docs/ui.md "Languages").

``untranslated(source)`` lists the text a user would read that is not inside ``{% translate %}``
or ``{% blocktranslate %}``: text between HTML tags (with the ``{{ variables }}`` inside it) and
the values of ``aria-label``, ``title``, ``placeholder``, ``alt`` and a button input's ``value``. The template lint
(tests/common/test_translations.py) fails on any of it. ``mark(source)`` wraps each such text in
a translation tag, a starting point for a template written without them::

    python -m pbxportal.common.template_i18n src/pbxportal/APP/templates/APP/page.html ...

(rewrites the files; read the result: a sentence broken by ``<a>`` or ``<strong>`` becomes
several messages, better joined by hand into one ``{% blocktranslate %}``).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from pathlib import Path

# Django's template tag pattern (django.template.base.tag_re), kept whole when splitting.
TAG_RE = re.compile(r"({%.*?%}|{{.*?}}|{#.*?#})", re.S)
ENTITY_RE = re.compile(r"&#?\w+;")
LETTER_RE = re.compile(r"[^\W\d_]")
ATTRIBUTES = ("aria-label", "title", "placeholder", "alt")
# Blocks whose content is not shown as text, or is already translated.
SKIPPED_BLOCKS = {"comment": "endcomment", "verbatim": "endverbatim"}
TRANSLATED_BLOCKS = {"blocktranslate": "endblocktranslate", "blocktrans": "endblocktrans"}
# Text a page may show as it is: the product's name, currency codes.
ALLOWED = {"pbxportal"}
_RESERVED = {"count", "context", "trimmed", "asvar", "with", "as", "noop"}
# Words given to a filter (``|default:"never"``): translated when written ``|default:_("never")``.
WORD_ARGUMENT_RE = re.compile(r"""\|(default|default_if_none|yesno):(["'])([^"']*)\2""")


@dataclass(frozen=True)
class Untranslated:
    line: int
    text: str


@dataclass
class _Run:
    line: int
    pieces: list[tuple[str, str]]  # ("text", raw) or ("var", raw)

    def text(self) -> str:
        return "".join(raw for kind, raw in self.pieces)

    def needs_translation(self) -> bool:
        words = ENTITY_RE.sub(" ", "".join(raw for kind, raw in self.pieces if kind == "text"))
        return bool(LETTER_RE.search(words)) and " ".join(self.text().split()) not in ALLOWED


def _var_name(expr: str, used: set[str]) -> str:
    head = expr.split("|", 1)[0].strip()
    name = re.sub(r"\W", "_", head.split(".")[-1]) or "value"
    if name in _RESERVED or name[0].isdigit():
        name = f"{name}_value"
    base, n = name, 2
    while name in used:
        name, n = f"{base}_{n}", n + 1
    used.add(name)
    return name


def _translated(run: _Run) -> str:
    """The run wrapped in a translation tag, its surrounding white space kept outside."""
    raw = run.text()
    lead = raw[: len(raw) - len(raw.lstrip())]
    trail = raw[len(raw.rstrip()) :]
    pieces = list(run.pieces)
    if not any(kind == "var" for kind, _ in pieces):
        text = " ".join(raw.split())
        if '"' not in text:
            return f'{lead}{{% translate "{text}" %}}{trail}'
        if "'" not in text:
            return f"{lead}{{% translate '{text}' %}}{trail}"
    used: set[str] = set()
    names: dict[str, str] = {}
    body = []
    for kind, piece in pieces:
        if kind == "text":
            body.append(piece)
            continue
        expr = piece[2:-2].strip()
        if re.fullmatch(r"[A-Za-z_]\w*", expr) and expr not in _RESERVED:
            used.add(expr)
            body.append(f"{{{{ {expr} }}}}")
            continue
        if expr not in names:
            names[expr] = _var_name(expr, used)
        body.append(f"{{{{ {names[expr]} }}}}")
    content = "".join(body).strip()
    options = ""
    if names:
        options += " with " + " ".join(f"{name}={expr}" for expr, name in names.items())
    if "\n" in content:
        options += " trimmed"
    return f"{lead}{{% blocktranslate{options} %}}{content}{{% endblocktranslate %}}{trail}"


def _walk(source: str) -> tuple[list[str | _Run], list[_Run]]:
    """The template as a list of kept strings and text runs; and the runs that need translating."""
    out: list[str | _Run] = []
    runs: list[_Run] = []
    run: _Run | None = None
    line = 1
    in_tag = False  # inside <...>
    quote = ""  # inside an attribute value quoted with this character
    attr_run = False  # that value is a translatable attribute's
    raw_until = ""  # inside <script>, <style> or <!-- -->: until this closes
    block_until = ""  # inside {% comment %}, {% verbatim %} or {% blocktranslate %}

    def flush() -> None:
        nonlocal run
        if run is not None and run.pieces:
            out.append(run)
            if run.needs_translation():
                runs.append(run)
        run = None

    def add(kind: str, raw: str) -> None:
        nonlocal run
        if run is None:
            run = _Run(line, [])
        run.pieces.append((kind, raw))

    for part in TAG_RE.split(source):
        if not part:
            continue
        if part.startswith(("{%", "{{", "{#")) and TAG_RE.fullmatch(part):
            words = part[2:-2].split()
            name = words[0] if words else ""
            if block_until:
                out.append(part)
                if name == block_until:
                    block_until = ""
            elif raw_until:
                out.append(part)
            elif part.startswith("{{") and (not in_tag or (quote and attr_run)):
                add("var", part)
            else:
                if not in_tag or (quote and attr_run):
                    flush()
                out.append(part)
                if part.startswith("{%"):
                    block_until = SKIPPED_BLOCKS.get(name, "") or TRANSLATED_BLOCKS.get(name, "")
            line += part.count("\n")
            continue
        i = 0
        while i < len(part):
            ch = part[i]
            if block_until:
                out.append(ch)
            elif raw_until:
                if part.startswith(raw_until, i):
                    out.append(raw_until)
                    line += raw_until.count("\n")
                    i += len(raw_until)
                    raw_until = ""
                    continue
                out.append(ch)
            elif in_tag:
                if quote:
                    if ch == quote:
                        if attr_run:
                            flush()
                        quote, attr_run = "", False
                        out.append(ch)
                    elif attr_run:
                        add("text", ch)
                    else:
                        out.append(ch)
                elif ch in "\"'":
                    quote = ch
                    before = "".join(_raw(x) for x in out[-200:])
                    attr = re.search(r"([\w-]+)\s*=\s*$", before)
                    name = attr.group(1).lower() if attr else ""
                    # the label of an <input type="submit|button|reset"> is its value
                    opened = before[before.rfind("<") :]
                    button = re.match(r"""<input\b[^>]*\btype=["']?(submit|button|reset)\b""", opened, re.I)
                    attr_run = name in ATTRIBUTES or (name == "value" and bool(button))
                    out.append(ch)
                elif ch == ">":
                    in_tag = False
                    out.append(ch)
                else:
                    out.append(ch)
            elif ch == "<" and re.match(r"<[A-Za-z/!]", part[i : i + 2]):
                flush()
                if part.startswith("<!--", i):
                    raw_until = "-->"
                else:
                    tag = re.match(r"<(script|style)\b", part[i:], re.I)
                    if tag:
                        raw_until = f"</{tag.group(1)}>"
                    in_tag = not tag
                    if tag:
                        end = part.find(">", i)
                        end = len(part) - 1 if end < 0 else end
                        out.append(part[i : end + 1])
                        line += part[i : end + 1].count("\n")
                        i = end + 1
                        continue
                out.append(ch)
            else:
                add("text", ch)
            if ch == "\n":
                line += 1
            i += 1
    flush()
    return out, runs


def untranslated(source: str) -> list[Untranslated]:
    """The text of this template a user reads that is outside a translation tag, and the words
    given to ``default``, ``default_if_none`` or ``yesno`` without ``_( )``."""
    _, runs = _walk(source)
    found = [Untranslated(run.line, " ".join(run.text().split())) for run in runs]
    for match in WORD_ARGUMENT_RE.finditer(source):
        in_value = re.search(
            r"""\bvalue=["']\{\{[^}]*$""", source[max(0, match.start() - 200) : match.start()]
        )
        if LETTER_RE.search(match.group(3)) and not in_value:  # a form's value is not for reading
            line = source.count("\n", 0, match.start()) + 1
            found.append(Untranslated(line, match.group(0)))
    return sorted(found, key=lambda u: u.line)


def mark(source: str) -> str:
    """The template with each untranslated text wrapped in ``{% translate %}`` or
    ``{% blocktranslate %}`` and ``{% load i18n %}`` added when needed."""
    out, runs = _walk(source)
    if not runs:
        return source
    todo = {id(run) for run in runs}
    text = "".join(
        _translated(item) if isinstance(item, _Run) and id(item) in todo else str(_raw(item)) for item in out
    )
    if not re.search(r"{%\s*load\s[^%]*\bi18n\b", text):
        extends = re.match(r"\s*{%\s*extends\s[^%]*%}\n?", text)
        at = extends.end() if extends else 0
        load = "{% load i18n %}\n" if extends else "{% load i18n %}"
        text = f"{text[:at]}{load}{text[at:]}"
    return text


def _raw(item: str | _Run) -> str:
    return item.text() if isinstance(item, _Run) else item


def main(paths: list[str]) -> int:
    for name in paths:
        path = Path(name)
        before = path.read_text()
        after = mark(before)
        if after != before:
            path.write_text(after)
            print(f"{path}: marked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
