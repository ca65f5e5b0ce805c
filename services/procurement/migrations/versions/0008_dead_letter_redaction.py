"""dead letters record when their payload was redacted; call-off titles lose child refs

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 21:00:00
"""

from collections.abc import Sequence

import json

import sqlalchemy as sa
from alembic import op

from shared.migrations import add_dead_letter_redacted_v3, drop_dead_letter_redacted_v3

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    add_dead_letter_redacted_v3()
    _retitle_need_call_offs()


def _retitle_need_call_offs() -> None:
    """Call-offs opened from a need were titled "Individual placement <child ref>: <need>,
    <attendance>": a published text with a child's reference and need (UK GDPR Art. 9).
    Retitle them as new ones are titled, in the competition, its award notice and the
    kept outbox rows (docs/law/children-data.md)."""
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, title, need_ref, spec FROM competition WHERE need_ref IS NOT NULL")
    ).all()
    for competition_id, old, need_ref, spec in rows:
        if not old.startswith("Individual placement ") or ":" not in old:
            continue
        filters = (json.loads(spec) if isinstance(spec, str) else spec)["filter"]
        new = f"Individual placement: {filters['attendance']}, need {need_ref}"
        params = {"id": competition_id, "old": old, "new": new}
        bind.execute(sa.text("UPDATE competition SET title = :new WHERE id = :id"), params)
        bind.execute(
            sa.text(
                "UPDATE award_notice SET description = REPLACE(description, :old, :new) "
                "WHERE competition_id = :id"
            ),
            params,
        )
        _retitle_outbox(bind, competition_id, old, new)


def _retitle_outbox(bind: sa.Connection, competition_id: str, old: str, new: str) -> None:
    kept = bind.execute(
        sa.text("SELECT seq, payload FROM outbox WHERE key = :key"), {"key": competition_id}
    ).all()
    old_json, new_json = json.dumps(old)[1:-1].encode(), json.dumps(new)[1:-1].encode()
    for seq, payload in kept:
        if old_json in bytes(payload):
            bind.execute(
                sa.text("UPDATE outbox SET payload = :payload WHERE seq = :seq"),
                {"payload": bytes(payload).replace(old_json, new_json), "seq": seq},
            )


def downgrade() -> None:
    drop_dead_letter_redacted_v3()
