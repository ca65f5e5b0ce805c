"""Answers kept by the version of the table they were read from.

A service's version row (`shared.migrations.create_version_table`) is raised by the
database on every change to the table it watches, whichever process or replica makes
it. A read that keeps its answer under the version it read *before* the answer's rows
can answer again while the version is unchanged: an answer is never older than the
version it is kept under. Used by provider search pages and the alert inbox.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from sqlalchemy import BigInteger
from sqlmodel import Field, SQLModel

Version = tuple[str, int]  # (epoch, version): the epoch tells two databases apart
V = TypeVar("V")


class VersionRow(SQLModel):
    """The columns of a service's version row (a table model inherits them beside its
    service's base): ``version``, raised by the database on every change to the table it
    watches, and ``epoch``, drawn when the row was made, so that two databases' versions
    are never taken for one another."""

    id: int = Field(primary_key=True)
    epoch: str = Field(max_length=32)
    version: int = Field(sa_type=BigInteger, nullable=False)


class KeptAnswers(Generic[V]):
    """The newest version's answers by key, at most `max_bytes` of them (each measured by
    `size_of`); emptied when full or when the version moves on."""

    def __init__(self, size_of: Callable[[V], int], max_bytes: int = 16 * 1024 * 1024) -> None:
        self.size_of = size_of
        self.max_bytes = max_bytes
        self.version: Version | None = None
        self.answers: dict[Hashable, V] = {}
        self.size = 0

    def get(self, version: Version | None, key: Hashable) -> V | None:
        return self.answers.get(key) if version is not None and version == self.version else None

    def put(self, version: Version | None, key: Hashable, answer: V) -> None:
        if version is None:
            return  # no version row: nothing can say when the answer goes stale
        if version != self.version:
            kept = self.version
            if kept is not None and version[0] == kept[0] and version[1] < kept[1]:
                return  # read before a newer answer was kept: that one stands
            self.version = version
            self._empty()
        size = self.size_of(answer)
        if self.size + size > self.max_bytes:
            self._empty()
        if size <= self.max_bytes:
            self.answers[key] = answer
            self.size += size

    def _empty(self) -> None:
        self.answers, self.size = {}, 0
