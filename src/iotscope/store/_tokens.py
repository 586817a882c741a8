"""API tokens: minted once (the only time the secret is seen), stored as a SHA-256 hash."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, insert, select, update

from iotscope.errors import ConfigError
from iotscope.store._schema_service import api_tokens
from iotscope.tenancy import NEEDS_TENANT, ROLES, Principal, Role

PREFIX = "iots"


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def mint_token(
    engine: Engine, role: Role, tenant: str | None = None, label: str | None = None
) -> str:
    """A new bearer token for ``role`` (and ``tenant``); returns the token text."""
    if role not in ROLES:
        raise ConfigError("unknown role", role=role, roles=",".join(ROLES))
    if role in NEEDS_TENANT and not tenant:
        raise ConfigError("this role needs --tenant", role=role)
    if role not in NEEDS_TENANT:
        tenant = None
    token_id = secrets.token_hex(6)
    token = f"{PREFIX}_{token_id}_{secrets.token_urlsafe(32)}"
    with engine.begin() as conn:
        conn.execute(
            insert(api_tokens).values(
                id=token_id,
                hash=_hash(token),
                role=role,
                tenant=tenant,
                label=label,
                created=datetime.now(UTC),
            )
        )
    return token


def resolve_token(engine: Engine, token: str) -> Principal | None:
    """The principal a token stands for, or None (unknown, malformed or revoked)."""
    if not token.startswith(PREFIX + "_") or len(token) > 200:
        return None
    with engine.connect() as conn:
        row = conn.execute(select(api_tokens).where(api_tokens.c.hash == _hash(token))).first()
    if row is None or row.revoked is not None:
        return None
    return Principal(role=row.role, tenant=row.tenant, token_id=row.id)


def revoke_token(engine: Engine, token_id: str) -> bool:
    """Revoke by id; False when no live token has that id."""
    with engine.begin() as conn:
        done = conn.execute(
            update(api_tokens)
            .where(api_tokens.c.id == token_id, api_tokens.c.revoked.is_(None))
            .values(revoked=datetime.now(UTC))
        )
    return bool(done.rowcount)


def list_tokens(engine: Engine) -> list[dict[str, Any]]:
    """Every token's id, role, tenant, label and dates (never the hash)."""
    cols = [c for c in api_tokens.c if c.name != "hash"]
    with engine.connect() as conn:
        return [
            dict(r._mapping) for r in conn.execute(select(*cols).order_by(api_tokens.c.created))
        ]
