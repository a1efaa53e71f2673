"""Clients and their bearer tokens; the secret that signs local upload URLs.

A token is ``secrets.token_urlsafe(32)`` (256 random bits), shown once; the database keeps only
its SHA-256 hex digest, so a database dump reveals no usable token.

:class:`TokenClients` remembers which client a token belongs to (that never changes: a token is
made for one client and is never reassigned), so a route that checks the client's revocation
in its own statement needs no lookup of its own (``POST /api/audio/analyze``).
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import time
import uuid
from datetime import datetime
from pathlib import Path
from typing import Protocol, TypeVar

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from soundy.db.models import Client
from soundy.errors import Unauthorized, key_revoked, unknown_token

__all__ = [
    "TokenClients",
    "authenticated",
    "client_for_token",
    "create_client",
    "hash_token",
    "load_secret_key",
    "required_token_hash",
    "sign",
    "verify",
]


def hash_token(token: str) -> str:
    """SHA-256 hex digest of a bearer token (what the ``clients`` table stores)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


async def create_client(
    session: AsyncSession,
    *,
    name: str | None = None,
    is_key: bool = False,
    plan: str | None = None,
    client_id: uuid.UUID | None = None,
) -> str:
    """Create a client (anonymous, or a named API key) on ``plan`` (None = the default plan)
    and commit; returns its new token."""
    token = secrets.token_urlsafe(32)
    session.add(
        Client(
            id=client_id or uuid.uuid4(),
            name=name,
            token_hash=hash_token(token),
            is_key=is_key,
            plan=plan,
        )
    )
    await session.commit()
    return token


async def client_for_token(session: AsyncSession, token: str | None) -> Client:
    """The client a bearer token belongs to; :class:`Unauthorized` when none does."""
    client = (
        await session.execute(select(Client).where(Client.token_hash == required_token_hash(token)))
    ).scalar_one_or_none()
    return authenticated(client)


def required_token_hash(token: str | None) -> str:
    """The hash to look a bearer token up by; :class:`Unauthorized` without a token."""
    if not token:
        raise Unauthorized("send 'Authorization: Bearer <token>' (get one from POST /api/clients)")
    return hash_token(token)


class _Revocable(Protocol):
    @property
    def revoked_at(self) -> datetime | None: ...


_Found = TypeVar("_Found", bound=_Revocable)


def authenticated(client: _Found | None) -> _Found:
    """The client found by :func:`required_token_hash` (a ``Client``, or a row that carries its
    ``revoked_at``, such as ``soundy.jobs.store.ClientAndJob``); :class:`Unauthorized` when none
    was found or its key is revoked (for routes that look the client up in a query of their
    own)."""
    if client is None:
        raise unknown_token()
    if client.revoked_at is not None:
        raise key_revoked(client.revoked_at)
    return client


class TokenClients:
    """Which client each recently seen token belongs to (token SHA-256 hex -> client id), at
    most ``max_entries`` of them; the oldest seen are forgotten first.

    Only the mapping is kept, which cannot go stale: whether the client is revoked, and its
    plan, are read by the caller's own statement on every request. An unknown token is not
    remembered, so it is looked up every time, as before.
    """

    def __init__(self, max_entries: int = 10_000) -> None:
        self.max_entries = max_entries
        self._ids: dict[str, uuid.UUID] = {}

    async def client_id(self, engine: AsyncEngine, token: str | None) -> uuid.UUID:
        """The id of the client ``token`` was made for (revoked or not); :class:`Unauthorized`
        without a token or for one no client has."""
        token_hash = required_token_hash(token)
        client_id = self._ids.get(token_hash)
        if client_id is not None:
            return client_id
        async with engine.connect() as conn:
            client_id = (
                await conn.execute(select(Client.id).where(Client.token_hash == token_hash))
            ).scalar_one_or_none()
        if client_id is None:
            raise unknown_token()
        if len(self._ids) >= self.max_entries:
            del self._ids[next(iter(self._ids))]  # dicts keep insertion order: the oldest
        self._ids[token_hash] = client_id
        return client_id


def load_secret_key(secret_key: str | None, data_dir: Path) -> bytes:
    """The key that signs upload URLs: ``SOUNDY_SECRET_KEY`` when set, else a random key
    generated once and kept in ``<data_dir>/secret_key`` (mode 0600) so URLs stay valid
    across restarts. Several API machines must share an explicit ``SOUNDY_SECRET_KEY``."""
    if secret_key:
        return secret_key.encode("utf-8")
    path = Path(data_dir) / "secret_key"
    path.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):
        # O_EXCL: of several processes starting at once, exactly one writes the key.
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48))
    for _ in range(50):  # another process may be between create and write
        value = path.read_text().strip()
        if value:
            return value.encode("utf-8")
        time.sleep(0.02)
    raise RuntimeError(f"{path} is empty; delete it or set SOUNDY_SECRET_KEY")


def sign(key: bytes, *parts: str) -> str:
    """HMAC-SHA256 of the parts joined by newlines, hex."""
    return hmac.new(key, "\n".join(parts).encode("utf-8"), hashlib.sha256).hexdigest()


def verify(key: bytes, signature: str, *parts: str) -> bool:
    """Constant-time check of a :func:`sign` result; any string is safe (bytes are compared, so
    a non-ASCII ``signature`` is simply wrong, not an error)."""
    return hmac.compare_digest(
        sign(key, *parts).encode(), signature.encode("utf-8", errors="surrogateescape")
    )
