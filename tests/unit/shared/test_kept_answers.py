"""Answers kept by the version of the table they were read from: only the newest
version's, never one read before a newer answer was kept, and bounded in size."""

from __future__ import annotations

from shared.kept_answers import KeptAnswers


def test_answers_keep_only_the_newest_version_and_are_bounded() -> None:
    pages = KeptAnswers[bytes](len, max_bytes=6)
    pages.put(("e", 5), "a", b"A5")
    assert pages.get(("e", 5), "a") == b"A5" and pages.get(("e", 6), "a") is None
    pages.put(("e", 4), "b", b"B4")  # read before version 5: not kept
    assert pages.get(("e", 5), "b") is None and pages.get(("e", 4), "b") is None
    pages.put(("e", 6), "a", b"A6")  # a newer version: the older pages go
    assert pages.get(("e", 6), "a") == b"A6" and pages.answers == {"a": b"A6"}
    pages.put(("other", 1), "a", b"X1")  # another database's version: replaces
    assert pages.get(("other", 1), "a") == b"X1" and pages.get(("e", 6), "a") is None
    pages.put(("other", 1), "b", b"Y1")
    assert pages.size == 4
    pages.put(("other", 1), "c", b"Z1c")  # 7 bytes would be over 6: emptied, then kept
    assert pages.answers == {"c": b"Z1c"} and pages.size == 3
    pages.put(("other", 1), "d", b"too large")  # larger than the whole: never kept
    assert pages.answers == {} and pages.size == 0


def test_without_a_version_nothing_is_kept() -> None:
    pages = KeptAnswers[bytes](len)
    pages.put(None, "a", b"A")
    assert pages.get(None, "a") is None and pages.answers == {}
