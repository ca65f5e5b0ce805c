"""GOV.UK Frontend's table, written out in Python: the same markup, byte for byte, as
govuk-frontend-jinja's `govukTable` macro (tests/unit/test_console_render.py compares
them), at a fraction of the cost.

Why: the macro runs a `govukAttributes` macro call and a captured block per cell; the
alerts inbox (200 rows of 5 cells) spent about 90% of its rendering there
(docs/performance.md, the console). templates/govuk_frontend_jinja/components/table/
macro.html shadows the package's macro and calls this, so every template keeps its
`govukTable({...})` call unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from markupsafe import Markup, escape

# Called with the params when an attribute value is itself a mapping ({value, optional}):
# rare, so handed to the package's own macro rather than reimplemented.
Fallback = Callable[[Mapping[str, Any]], str]


class NeedsMacro(Exception):
    """The params use a form this module leaves to the package's macro."""


def _attributes(attributes: Any) -> str:
    """govukAttributes for what the console passes: a string as is, or a mapping of
    plain values (`True` -> "true", as the macro writes booleans)."""
    if not attributes:
        return ""
    if isinstance(attributes, str):
        return str(attributes)
    if not isinstance(attributes, Mapping):
        raise NeedsMacro()
    found = []
    for name, value in attributes.items():
        if isinstance(value, Mapping):
            raise NeedsMacro()
        shown = str(value).lower() if isinstance(value, bool) else value
        found.append(f' {escape(name)}="{escape(shown)}"')
    return "".join(found)


def _content(item: Mapping[str, Any]) -> str:
    # `item.html | safe if item.html else item.text` (autoescaped): html is trusted.
    html = item.get("html")
    if html:
        return str(html)
    # A missing text is Jinja's Undefined (""); a None is printed, as Jinja prints it.
    return str(escape(item.get("text", "")))


def _classes(base: str, item: Mapping[str, Any], format_prefix: str) -> str:
    found = base
    if item.get("format"):
        found += f" {format_prefix}--{escape(item['format'])}"
    if item.get("classes"):
        found += f" {escape(item['classes'])}"
    return found


def _spans(item: Mapping[str, Any]) -> str:
    found = ""
    if item.get("colspan"):
        found += f' colspan="{escape(item["colspan"])}"'
    if item.get("rowspan"):
        found += f' rowspan="{escape(item["rowspan"])}"'
    return found + _attributes(item.get("attributes"))


def _head(head: Any) -> list[str]:
    lines = ['  <thead class="govuk-table__head">', '    <tr class="govuk-table__row">']
    for item in head:
        classes = _classes("govuk-table__header", item, "govuk-table__header")
        lines.append(f'      <th scope="col" class="{classes}"{_spans(item)}>{_content(item)}</th>')
    lines += ["    </tr>", "  </thead>"]
    return lines


def _row(row: Any, first_is_header: bool) -> list[str]:
    lines = ['    <tr class="govuk-table__row">']
    for index, cell in enumerate(row):
        if index == 0 and first_is_header:
            classes = "govuk-table__header" + (
                f" {escape(cell['classes'])}" if cell.get("classes") else ""
            )
            lines.append(
                f'      <th scope="row" class="{classes}"{_spans(cell)}>{_content(cell)}</th>'
            )
        else:
            classes = _classes("govuk-table__cell", cell, "govuk-table__cell")
            lines.append(f'      <td class="{classes}"{_spans(cell)}>{_content(cell)}</td>')
    lines.append("    </tr>")
    return lines


def govuk_table(params: Mapping[str, Any], fallback: Fallback) -> Markup:
    """The `govukTable` macro's output for `params` (the macro's own argument)."""
    try:
        # Every value in it went through escape() (or is the caller's Markup, as the
        # macro's `| safe` takes it).
        return Markup(_table(params))  # nosec B704
    except NeedsMacro:
        # The package's macro's own output, already escaped by Jinja.
        return Markup(fallback(params))  # nosec B704


def _table(params: Mapping[str, Any]) -> str:
    classes = "govuk-table" + (f" {escape(params['classes'])}" if params.get("classes") else "")
    lines = [f'<table class="{classes}"{_attributes(params.get("attributes"))}>']
    if params.get("caption"):
        caption_classes = "govuk-table__caption" + (
            f" {escape(params['captionClasses'])}" if params.get("captionClasses") else ""
        )
        caption = escape(params["caption"])
        lines.append(f'  <caption class="{caption_classes}">{caption}</caption>')
    if params.get("head"):
        lines += _head(params["head"])
    lines.append('  <tbody class="govuk-table__body">')
    first_is_header = bool(params.get("firstCellIsHeader"))
    for row in params.get("rows") or ():
        if row:
            lines += _row(row, first_is_header)
    lines += ["  </tbody>", "</table>", ""]
    return "\n".join(lines)
