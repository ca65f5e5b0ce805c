"""document verification: documents held before it count as verified

From this revision a compliance document counts only once the council has verified it
(``verified_by`` in the provider's details). Documents already on the register were
accepted under the old rules; they are marked verified by "before-0007" so no provider
becomes non-compliant overnight, and the council can tell them apart and re-verify.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 23:50:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

LEGACY = "before-0007"
provider = sa.table("provider", sa.column("id", sa.String), sa.column("details", sa.JSON))


def _mark(details: dict[str, Any], verified: bool) -> dict[str, Any]:
    documents = []
    for document in details.get("documents") or []:
        document = dict(document)
        if verified and document.get("verified_by") is None:
            document["verified_by"] = LEGACY
        if not verified:
            if document.get("verified_by") is None:
                continue  # a proposal: the old rules had no such thing
            document.pop("verified_by", None)
            document.pop("verified_on", None)
        documents.append(document)
    return {**details, "documents": documents}


def _rewrite(verified: bool) -> None:
    bind = op.get_bind()
    for provider_id, details in bind.execute(sa.select(provider.c.id, provider.c.details)).all():
        if details and details.get("documents"):
            bind.execute(
                provider.update()
                .where(provider.c.id == provider_id)
                .values(details=_mark(details, verified))
            )


def upgrade() -> None:
    _rewrite(verified=True)


def downgrade() -> None:
    _rewrite(verified=False)
