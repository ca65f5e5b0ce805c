"""Encryption of Temporal workflow and activity payloads (AES-256-GCM), with key rotation.

Workflow inputs, activity arguments and results can carry a child's reference and
needs; Temporal stores them in its history. The codec encrypts every payload before it
leaves the process, so the Temporal server, its database and its UI see only ciphertext.
The key id travels in the payload's metadata: the current key encrypts, every listed key
decrypts, so keys rotate by putting a new one first (DPS_TEMPORAL_PAYLOAD_KEYS).
Payloads written before encryption was on (old histories) pass through undecoded.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Sequence
from pathlib import Path

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from temporalio.api.common.v1 import Payload
from temporalio.converter import PayloadCodec

from shared.files import private_dir, private_file

ENCODING = b"binary/encrypted"
KEY_ID = "encryption-key-id"
NONCE_BYTES = 12
TAG_BYTES = 16  # AES-GCM's authentication tag
KEY_FILE = "temporal-payload-keys"


class PayloadKeyError(ValueError):
    """A payload names a key this process does not hold, or a key is malformed."""


def parse_keys(text: str) -> dict[str, bytes]:
    """`id=base64key,id2=base64key` (first: current) → ordered {id: 32-byte key}."""
    keys: dict[str, bytes] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        key_id, sep, encoded = item.partition("=")
        if not sep or not key_id:
            raise PayloadKeyError("DPS_TEMPORAL_PAYLOAD_KEYS items are id=base64key")
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except ValueError as exc:
            raise PayloadKeyError(f"payload key {key_id!r} is not base64") from exc
        if len(key) != 32:
            raise PayloadKeyError(f"payload key {key_id!r} must be 32 bytes (AES-256)")
        keys[key_id.strip()] = key
    if not keys:
        raise PayloadKeyError("DPS_TEMPORAL_PAYLOAD_KEYS is empty")
    return keys


def new_key_item(key_id: str) -> str:
    """A fresh `id=base64key` item (for `dps` and operators rotating keys)."""
    return f"{key_id}={base64.b64encode(secrets.token_bytes(32)).decode()}"


def local_keys(data_dir: Path) -> str:
    """The embedded stack's keys, generated once in the data folder (0600).

    The four services start together: the file appears atomically (a hard link of a
    finished temporary file), so they all end up with the first writer's key.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        private_dir(data_dir)
        draft = private_file(data_dir / f".{KEY_FILE}.{os.getpid()}.{secrets.token_hex(4)}")
        try:
            draft.write_text(new_key_item(f"local-{secrets.token_hex(4)}"))
            with contextlib.suppress(FileExistsError):
                os.link(draft, path)
        finally:
            draft.unlink()
    return path.read_text().strip()


class EncryptionCodec(PayloadCodec):
    """AES-GCM with a random 96-bit nonce per payload; the key id is authenticated as
    associated data, so a payload cannot be passed off as encrypted under another key."""

    def __init__(self, keys: dict[str, bytes]) -> None:
        if not keys:
            raise PayloadKeyError("no payload keys")
        self.current = next(iter(keys))
        self.ciphers = {key_id: AESGCM(key) for key_id, key in keys.items()}

    async def encode(self, payloads: Sequence[Payload]) -> list[Payload]:
        cipher = self.ciphers[self.current]
        key_id = self.current.encode()
        encoded = []
        for payload in payloads:
            nonce = os.urandom(NONCE_BYTES)
            sealed = cipher.encrypt(nonce, payload.SerializeToString(), key_id)
            encoded.append(
                Payload(metadata={"encoding": ENCODING, KEY_ID: key_id}, data=nonce + sealed)
            )
        return encoded

    async def decode(self, payloads: Sequence[Payload]) -> list[Payload]:
        decoded = []
        for payload in payloads:
            if payload.metadata.get("encoding") != ENCODING:
                decoded.append(payload)  # written before encryption was on
                continue
            key_id = payload.metadata.get(KEY_ID, b"")
            cipher = self.ciphers.get(key_id.decode(errors="replace"))
            if cipher is None:
                raise PayloadKeyError(
                    f"payload encrypted with key {key_id.decode(errors='replace')!r}, which "
                    "is not in DPS_TEMPORAL_PAYLOAD_KEYS (keep old keys until their "
                    "workflows have closed and aged out of retention)"
                )
            if len(payload.data) < NONCE_BYTES + TAG_BYTES:
                raise PayloadKeyError("encrypted payload is too short to be one")
            nonce, sealed = payload.data[:NONCE_BYTES], payload.data[NONCE_BYTES:]
            inner = Payload()
            inner.ParseFromString(cipher.decrypt(nonce, sealed, key_id))
            decoded.append(inner)
        return decoded
