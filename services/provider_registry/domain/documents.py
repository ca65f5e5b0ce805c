"""Compliance documents (propose, verify, check validity) and the files uploaded for them."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta

from services.provider_registry.domain.providers import (
    DOCUMENT_WARNING_DAYS,
    REQUIRED_DOCUMENTS,
    ComplianceDocument,
)
from shared.contracts.providers_v1 import (
    DocumentKind,
)
from shared.errors import Conflict, DomainError

# --- compliance documents -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    """Current documents (latest per kind) sorted into expired / expiring soon, and
    required kinds with no document at all."""

    expired: tuple[ComplianceDocument, ...]
    expiring_soon: tuple[ComplianceDocument, ...]
    missing: frozenset[DocumentKind]

    @property
    def all_valid(self) -> bool:
        """Every required kind present and none expired (expiring soon is still valid)."""
        return not self.expired and not self.missing


def current_documents(documents: Iterable[ComplianceDocument]) -> list[ComplianceDocument]:
    """The verified document of each kind with the latest expiry; a renewal supersedes
    the old. Proposals awaiting verification are left out."""
    latest: dict[DocumentKind, ComplianceDocument] = {}
    for document in (d for d in documents if d.verified):
        held = latest.get(document.kind)
        if held is None or document.expires_on > held.expires_on:
            latest[document.kind] = document
    return sorted(latest.values(), key=lambda document: (document.expires_on, document.kind))


def pending_documents(documents: Iterable[ComplianceDocument]) -> list[ComplianceDocument]:
    """A provider's proposals the council has not verified yet."""
    return [d for d in documents if not d.verified]


def verified_as(
    documents: Iterable[ComplianceDocument], by: str, on: date
) -> tuple[ComplianceDocument, ...]:
    """Documents the council itself enters: verified by whoever entered them."""
    return tuple(replace(d, verified_by=by, verified_on=on) for d in documents)


def propose_documents(
    held: Iterable[ComplianceDocument], proposals: Iterable[ComplianceDocument]
) -> tuple[ComplianceDocument, ...]:
    """A provider's documents: they replace its earlier proposals, unverified; the
    council-verified documents stay as they are (a provider neither moves their expiry
    nor removes them). Resending a verified document as it is changes nothing."""
    verified = tuple(d for d in held if d.verified)
    same = {(d.kind, d.expires_on, d.reference) for d in verified}
    fresh = tuple(
        replace(p, verified_by=None, verified_on=None)
        for p in proposals
        if (p.kind, p.expires_on, p.reference) not in same
    )
    return verified + fresh


def verify_document(
    held: Iterable[ComplianceDocument], kind: DocumentKind, expires_on: date, by: str, on: date
) -> tuple[ComplianceDocument, ...]:
    """An officer verifies the latest proposal of ``kind`` and sets its expiry (which
    may differ from the one proposed); older proposals of that kind are dropped."""
    documents = tuple(held)
    proposals = [d for d in documents if not d.verified and d.kind is kind]
    if not proposals:
        raise Conflict("kind", f"no {kind} document awaits verification")
    if not by.strip():
        raise DomainError("verified_by", "must name who verified the document")
    kept = tuple(d for d in documents if d.verified or d.kind is not kind)
    verified = replace(proposals[-1], expires_on=expires_on, verified_by=by, verified_on=on)
    return (*kept, verified)


def check_documents(
    documents: Iterable[ComplianceDocument],
    today: date,
    warning_days: int = DOCUMENT_WARNING_DAYS,
) -> DocumentCheck:
    """Expired: ``expires_on`` before today. Expiring soon: today to today+warning_days."""
    current = current_documents(documents)
    horizon = today + timedelta(days=warning_days)
    return DocumentCheck(
        expired=tuple(d for d in current if d.expires_on < today),
        expiring_soon=tuple(d for d in current if today <= d.expires_on <= horizon),
        missing=REQUIRED_DOCUMENTS - {d.kind for d in current},
    )


# --- document files ----------------------------------------------------------------------
# What a provider may upload as a compliance document, told by its first bytes (magic
# numbers), never by the name or the declared type: a renamed executable is refused.

MEDIA_TYPES: dict[str, str] = {
    "pdf": "application/pdf",
    "png": "image/png",
    "jpeg": "image/jpeg",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
}
TYPE_LABELS: dict[str, str] = {
    "pdf": "PDF",
    "png": "PNG",
    "jpeg": "JPEG",
    "docx": "Word (DOCX)",
    "odt": "OpenDocument text (ODT)",
}
ZIP_MAGIC = b"PK\x03\x04"
# An ODF package starts with an uncompressed entry "mimetype" holding the media type
# (OASIS ODF 1.2 part 3, section 3.3), so its first bytes name it.
ODT_HEAD = b"mimetypeapplication/vnd.oasis.opendocument.text"
FILENAME_MAX = 120
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._ -]+")


def sniff_type(head: bytes, zip_names: Iterable[str] = ()) -> str | None:
    """The short name (a key of MEDIA_TYPES) of a file starting with `head`, or None.
    A ZIP is a DOCX when it holds ``[Content_Types].xml`` and ``word/document.xml``."""
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(ZIP_MAGIC):
        if head[30:].startswith(ODT_HEAD):
            return "odt"
        names = set(zip_names)
        if "[Content_Types].xml" in names and "word/document.xml" in names:
            return "docx"
    return None


def allowed_types_text(allowed: Iterable[str]) -> str:
    """'PDF, PNG or JPEG': the allowed types in words, for errors and hints."""
    labels = [TYPE_LABELS[name] for name in allowed]
    return labels[0] if len(labels) == 1 else f"{', '.join(labels[:-1])} or {labels[-1]}"


# The extensions a type's file may keep; any other is replaced by the first.
EXTENSIONS: dict[str, tuple[str, ...]] = {
    "pdf": ("pdf",),
    "png": ("png",),
    "jpeg": ("jpg", "jpeg"),
    "docx": ("docx",),
    "odt": ("odt",),
}


def safe_filename(given: str | None, type_name: str) -> str:
    """The uploaded name without any path, with only plain characters (it goes back out
    in a Content-Disposition header), ending in an extension of the type its bytes are:
    a PDF named ``x.exe`` is kept as ``x.pdf``."""
    base = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE_FILENAME.sub("_", base).strip(" .")
    stem, dot, extension = base.rpartition(".")
    if not dot:
        stem, extension = base, ""
    allowed = EXTENSIONS[type_name]
    if extension.lower() not in allowed:
        extension = allowed[0]  # missing, or not what the bytes are: the type's own
    stem = stem[:FILENAME_MAX].strip(" .") or "document"
    return f"{stem}.{extension.lower()}"
