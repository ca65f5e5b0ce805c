"""Migration 0008 (children's data): call-offs titled with a child's reference and need before
are retitled, in the competition and its kept outbox rows (UK GDPR Art. 9)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlmodel import select

from dps.services import definition_of
from shared.db import migrate, sync_url
from shared.infra_models import OutboxMessage
from tests.service.procurement.conftest import Driver

OLD_TITLE = "Individual placement KCC-EHC-000123: ASD, day"


def downgrade(url: str, migrations: Path, revision: str) -> None:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.set_main_option("sqlalchemy.url", sync_url(url).replace("%", "%%"))
    config.attributes["configure_logger"] = False
    command.downgrade(config, revision)


async def test_old_titles_lose_the_child_reference_and_need(proc: Driver) -> None:
    scheme_id = await proc.scheme()
    await proc.admit(scheme_id, "p-1")
    opened = await proc.open(scheme_id, title=OLD_TITLE, need_ref="n-old")
    assert opened.status_code == 201, opened.text
    competition_id = opened.json()["competition_id"]

    migrations = definition_of("procurement").migrations_dir
    await asyncio.to_thread(downgrade, proc.runtime.db.url, migrations, "0005")
    await asyncio.to_thread(migrate, proc.runtime.db.url, migrations)

    body = (await proc.get(f"/competitions/{competition_id}")).json()
    assert body["title"] == "Individual placement: day, need n-old"
    async with proc.runtime.db.session() as session:
        rows = (
            await session.exec(select(OutboxMessage).where(OutboxMessage.key == competition_id))
        ).all()
    assert rows and all(b"KCC-EHC-000123" not in r.payload for r in rows)
