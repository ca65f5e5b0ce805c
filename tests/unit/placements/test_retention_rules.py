"""Retention of children's data: the keyed pseudonym and what an event keeps after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.placements import domain as d

KEY = b"test-key"


def test_pseudonym_is_keyed_stable_one_way_and_fits_the_column() -> None:
    first = d.pseudonym("KCC-EHC-000123", KEY)
    assert first == d.pseudonym("KCC-EHC-000123", KEY)  # one child, one pseudonym
    assert first != d.pseudonym("KCC-EHC-000124", KEY)
    assert first != d.pseudonym("KCC-EHC-000123", b"another-key")  # keyed
    assert first.startswith("PSN-") and "000123" not in first and len(first) <= 40
    assert d.pseudonym(first, KEY) == first  # a second run changes nothing


def test_event_data_keeps_everything_but_the_childs_identity() -> None:
    data = {
        "placement_id": "pl-1",
        "child_ref": "KCC-EHC-000123",
        "date_of_birth": "2014-05-01",
        "postcode_district": "ME14",
        "provider_id": "p-1",
    }
    kept = d.pseudonymised_event_data(data, KEY)
    assert kept == {
        "placement_id": "pl-1",
        "child_ref": d.pseudonym("KCC-EHC-000123", KEY),
        "date_of_birth": None,
        "postcode_district": None,
        "provider_id": "p-1",
    }
    assert d.pseudonymised_event_data({"block_contract_id": "b"}, KEY) == {"block_contract_id": "b"}


def test_retention_cutoff_needs_an_aware_time_and_a_positive_period() -> None:
    now = datetime(2026, 12, 4, tzinfo=UTC)
    assert d.retention_cutoff(now, 365) == now - timedelta(days=365)
    with pytest.raises(d.DomainError):
        d.retention_cutoff(now, 0)
    with pytest.raises(d.DomainError):
        d.retention_cutoff(datetime(2026, 12, 4), 365)
