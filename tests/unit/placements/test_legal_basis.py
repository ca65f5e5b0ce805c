"""Every placement carries its legal basis (issue 19): a call-off's from its regime, a
manual record's as stated with the reference justifying it, and spend split into
on-contract, off-contract lawful and off-contract non-compliant."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from services.placements import domain as d
from shared.contracts.placements_v1 import PlacementBasis, PlacementSource
from shared.errors import DomainError
from tests.unit.placements.factories import placement

SPOT = {"source": PlacementSource.SPOT, "scheme_ref": None, "competition_ref": None}


def test_every_basis_is_in_the_table_with_words_and_a_provision() -> None:
    assert set(d.BASES) == set(PlacementBasis)
    for basis, rule in d.BASES.items():
        assert rule.basis is basis and rule.label and rule.sources
        # A source names the law and the provision (a section, regulation or paragraph).
        assert re.search(r"(s\.\d+|reg \d+|para \d+|Part \d)", rule.source), basis
    assert [b for b, r in d.BASES.items() if not r.lawful] == [PlacementBasis.OFF_CONTRACT_SPOT]
    assert {b for b, r in d.BASES.items() if r.needs_reference} == {
        PlacementBasis.USER_CHOICE,
        PlacementBasis.TRIBUNAL_ORDER,
        PlacementBasis.URGENT,
        PlacementBasis.BELOW_THRESHOLD,
    }


def test_a_call_off_basis_follows_the_regime_and_old_awards_are_dps_call_offs() -> None:
    assert d.basis_for_regime("pcr2015") is PlacementBasis.DPS_CALL_OFF
    assert d.basis_for_regime("pcr2015_light_touch") is PlacementBasis.DPS_CALL_OFF
    assert d.basis_for_regime("pa2023_dynamic_market") is PlacementBasis.DYNAMIC_MARKET_CALL_OFF
    assert d.basis_for_regime("pa2023_open_framework") is PlacementBasis.FRAMEWORK_CALL_OFF
    assert d.basis_for_regime(None) is PlacementBasis.DPS_CALL_OFF
    made = placement(basis=d.basis_for_regime("pa2023_dynamic_market"))
    assert made.legal_basis is PlacementBasis.DYNAMIC_MARKET_CALL_OFF and made.lawful


def test_without_a_recorded_basis_the_source_decides() -> None:
    assert placement().legal_basis is PlacementBasis.DPS_CALL_OFF
    spot = placement(**SPOT)
    assert spot.basis is PlacementBasis.OFF_CONTRACT_SPOT and not spot.lawful
    assert not spot.on_contract


def test_a_tribunal_order_needs_its_reference_and_a_reference_is_never_a_name() -> None:
    with pytest.raises(DomainError) as missing:
        placement(**SPOT, basis=PlacementBasis.TRIBUNAL_ORDER)
    assert (missing.value.field, missing.value.rule) == ("basis_reference", "required_for_basis")
    with pytest.raises(DomainError) as named:
        placement(**SPOT, basis=PlacementBasis.TRIBUNAL_ORDER, basis_reference="Amy Smith")
    assert (named.value.field, named.value.rule) == ("basis_reference", "not_a_reference")
    made = placement(
        **SPOT, basis=PlacementBasis.TRIBUNAL_ORDER, basis_reference=" EH886/25/00045 2025-06-30 "
    )
    assert made.basis_reference == "EH886/25/00045 2025-06-30" and made.lawful


def test_a_basis_must_fit_how_the_placement_was_bought() -> None:
    with pytest.raises(DomainError) as wrong:
        placement(basis=PlacementBasis.USER_CHOICE, basis_reference="DEC-2026-0012")
    assert (wrong.value.field, wrong.value.rule) == ("basis", "not_for_source")
    with pytest.raises(DomainError):
        placement(**SPOT, basis=PlacementBasis.DPS_CALL_OFF)


def test_below_threshold_is_lawful_only_under_the_light_touch_threshold() -> None:
    # 1,900 a week, 38 weeks, three years: about £216,600, under £663,540.
    made = placement(**SPOT, basis=PlacementBasis.BELOW_THRESHOLD, basis_reference="CDN-2026-0007")
    assert made.lawful
    with pytest.raises(DomainError) as above:
        placement(
            **SPOT,
            basis=PlacementBasis.BELOW_THRESHOLD,
            basis_reference="CDN-2026-0008",
            weekly_core_fee=Decimal("4000.00"),
            weeks_per_year=52,
        )
    assert (above.value.field, above.value.rule) == ("basis", "not_below_threshold")
    assert "663540" in str(above.value)


def test_the_threshold_in_force_on_the_award_date() -> None:
    act = d.light_touch_threshold(date(2026, 3, 1))
    assert act is not None and act.value == Decimal("663540") and "Schedule 1" in act.source
    old = d.light_touch_threshold(date(2019, 6, 1))
    assert old is not None and old.value == Decimal("615278")
    assert d.light_touch_threshold(date(2017, 1, 1)) is None


def _line(pid: str, amount: str, *, on: bool, basis: str | None, line: str = d.PLACEMENT_LINE):  # type: ignore[no-untyped-def]
    return d.LedgerLine(pid, "prov-1", "ASD", on, 2026, Decimal(amount), line, basis)


def test_spend_splits_off_contract_into_lawful_by_basis_and_non_compliant() -> None:
    lines = [
        _line("a", "100.00", on=True, basis="dynamic_market_call_off"),
        _line("b", "50.00", on=True, basis=None, line=d.BLOCK_UNFILLED_LINE),
        _line("c", "30.00", on=False, basis="tribunal_order"),
        _line("d", "20.00", on=False, basis="user_choice"),
        _line("e", "7.00", on=False, basis="off_contract_spot"),
        _line("f", "3.00", on=False, basis=None),  # an old line: a spot with no basis
    ]
    summary = d.summarise_ledger(lines, 2026)
    assert (summary.on_contract, summary.off_contract) == (Decimal("150.00"), Decimal("60.00"))
    assert summary.off_contract_lawful == Decimal("50.00")
    assert summary.off_contract_non_compliant == Decimal("10.00")
    assert {b: s.amount for b, s in summary.by_basis.items()} == {
        "dynamic_market_call_off": Decimal("100.00"),
        "block_contract": Decimal("50.00"),
        "user_choice": Decimal("20.00"),
        "tribunal_order": Decimal("30.00"),
        "off_contract_spot": Decimal("10.00"),
    }
    # In the table's order: on-contract first, non-compliant last, each in words.
    assert list(summary.by_basis)[-1] == "off_contract_spot"
    assert summary.by_basis["tribunal_order"].label.startswith("Direct award")


def test_the_published_table_lists_every_basis_as_the_data_says() -> None:
    from pathlib import Path

    text = (Path(__file__).parents[3] / "docs" / "law" / "placement-basis.md").read_text()
    rows = {
        line.split("|")[1].strip().strip("`"): line
        for line in text.splitlines()
        if line.startswith("| `")
    }
    assert set(rows) == {b.value for b in PlacementBasis}
    for basis, rule in d.BASES.items():
        lawful_cell = rows[basis.value].split("|")[4]
        assert ("yes" in lawful_cell) is rule.lawful, basis
