"""Telling a document file's type by its first bytes, and a safe filename (issue 15)."""

from __future__ import annotations

import pytest

from services.provider_registry.domain import (
    ODT_HEAD,
    allowed_types_text,
    safe_filename,
    sniff_type,
)

DOCX_NAMES = ["[Content_Types].xml", "_rels/.rels", "word/document.xml"]


@pytest.mark.parametrize(
    ("head", "names", "expected"),
    [
        (b"%PDF-1.4\n", [], "pdf"),
        (b"\x89PNG\r\n\x1a\n\x00", [], "png"),
        (b"\xff\xd8\xff\xe0JFIF", [], "jpeg"),
        (b"PK\x03\x04" + b"\x00" * 26 + ODT_HEAD, [], "odt"),
        (b"PK\x03\x04" + b"\x00" * 40, DOCX_NAMES, "docx"),
        (b"PK\x03\x04" + b"\x00" * 40, ["a.txt"], None),  # a ZIP, not a document
        (b"MZ\x90\x00", [], None),  # a Windows program, whatever its name
        (b"<html><script>", [], None),
        (b"", [], None),
    ],
)
def test_the_type_is_told_by_the_first_bytes(
    head: bytes, names: list[str], expected: str | None
) -> None:
    assert sniff_type(head, names) == expected


@pytest.mark.parametrize(
    ("given", "kind", "expected"),
    [
        ("policy.pdf", "pdf", "policy.pdf"),
        ("../../etc/passwd", "pdf", "passwd.pdf"),
        ("C:\\Users\\me\\scan.png", "png", "scan.png"),
        ('a"; filename=evil.exe', "pdf", "a_ filename_evil.pdf"),
        ("scan.JPEG", "jpeg", "scan.jpeg"),
        ("scan.pdf", "png", "scan.png"),
        ("...", "jpeg", "document.jpg"),
        (None, "odt", "document.odt"),
        ("x" * 300 + ".pdf", "pdf", "x" * 120 + ".pdf"),
    ],
)
def test_a_filename_keeps_no_path_and_no_unusual_characters(
    given: str | None, kind: str, expected: str
) -> None:
    assert safe_filename(given, kind) == expected


def test_allowed_types_in_words() -> None:
    assert allowed_types_text(["pdf"]) == "PDF"
    assert allowed_types_text(["pdf", "png", "jpeg"]) == "PDF, PNG or JPEG"
