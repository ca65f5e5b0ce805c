"""The console's table (services/console/govuk_table.py) writes exactly what
govuk-frontend-jinja's `govukTable` macro writes, for every form of params the macro
takes, so the pages look the same to browsers, axe and the browser tests."""

from __future__ import annotations

from typing import Any

import pytest
from markupsafe import Markup

from services.console.render import ENV, PACKAGE_ORIGINAL

OURS = ENV.from_string(
    '{% from "govuk_frontend_jinja/components/table/macro.html" import govukTable %}'
    "{{ govukTable(p) }}"
)
PACKAGE = ENV.from_string(
    '{% from "' + PACKAGE_ORIGINAL + '/components/table/macro.html" import govukTable %}'
    "{{ govukTable(p) }}"
)

CASES: list[dict[str, Any]] = [
    {"rows": []},
    {"rows": [[{"text": "one"}]]},
    {
        "caption": "Alerts <all>",
        "captionClasses": "govuk-visually-hidden",
        "head": [{"text": "Alert"}, {"text": "Fee", "format": "numeric", "classes": "x y"}],
        "rows": [
            [{"html": Markup('<a class="govuk-link" href="/a">A & B</a>')}, {"text": "5 & 6"}],
            [],
            [{"text": 0, "format": "numeric"}, {"text": None}],
            [{"text": Markup("<b>kept</b>")}, {}],
        ],
    },
    {
        "classes": "govuk-table--small-text-until-tablet",
        "attributes": {"data-module": "sortable", "aria-busy": True},
        "firstCellIsHeader": True,
        "head": [{"text": "Month", "colspan": 2, "rowspan": 1}],
        "rows": [
            [{"text": "May", "classes": "c"}, {"text": "£1", "format": "numeric", "colspan": 2}],
            [{"text": "June", "attributes": {"id": "june"}}, {"html": "<i>raw</i>"}],
        ],
    },
    {"attributes": ' data-raw="yes"', "rows": [[{"text": "x", "rowspan": 3}]]},
    # An attribute given as {value, optional}: left to the package's macro.
    {"attributes": {"hidden": {"value": True, "optional": True}}, "rows": [[{"text": "x"}]]},
]


@pytest.mark.parametrize("params", CASES)
def test_the_table_is_the_packages_markup_byte_for_byte(params: dict[str, Any]) -> None:
    assert OURS.render(p=params) == PACKAGE.render(p=params)


def test_the_pages_use_the_fast_table() -> None:
    source, _, _ = ENV.loader.get_source(  # type: ignore[union-attr]
        ENV, "govuk_frontend_jinja/components/table/macro.html"
    )
    assert "govuk_table(" in source
