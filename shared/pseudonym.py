"""The keyed pseudonym of a child reference (UK GDPR Art. 4(5)).

Placements replaces a child reference by it after retention (services/placements/
retention.py); the audit trail stores only it from the start (shared.audit), so that
retention never has to rewrite an append-only row.
"""

from __future__ import annotations

import hashlib
import hmac

PSEUDONYM_PREFIX = "PSN-"


def pseudonym(child_ref: str, key: bytes) -> str:
    """The keyed hash (HMAC-SHA256) of a child reference.

    Stable (the same child keeps one pseudonym, so counts and histories still add up) and
    one-way without the key: only the council, holding key and reference, can find a
    child's old records by computing it. A pseudonym maps to itself.
    """
    if child_ref.startswith(PSEUDONYM_PREFIX):
        return child_ref
    digest = hmac.new(key, child_ref.encode(), hashlib.sha256).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:32]}"
