"""Password hashing (argon2id via pwdlib) and JWT signing and verification (PyJWT)."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import anyio
import jwt
from anyio import CapacityLimiter
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher

from storefront.config import Settings

TokenType = Literal["access", "refresh"]
JWT_ALGORITHM = "HS256"  # pinned: tokens naming any other algorithm are refused


class PasswordHasher:
    """argon2id, run in worker threads so a hash never blocks the event loop.

    A hash costs tens of milliseconds of CPU and (by default) 64 MiB of memory, so
    a limiter caps how many run at once; a burst of logins queues instead of
    exhausting memory.
    """

    def __init__(self, settings: Settings) -> None:
        self._hash = PasswordHash(
            (
                Argon2Hasher(
                    time_cost=settings.password_hash_time_cost,
                    memory_cost=settings.password_hash_memory_kib,
                    parallelism=settings.password_hash_parallelism,
                ),
            )
        )
        self._limiter = CapacityLimiter(settings.password_hash_concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        return await anyio.to_thread.run_sync(self._hash.hash, password, limiter=self._limiter)

    async def verify(self, password: str, hashed: str) -> tuple[bool, str | None]:
        """Whether the password matches, and a new hash when the cost settings changed."""
        return await anyio.to_thread.run_sync(self._hash.verify_and_update, password, hashed, limiter=self._limiter)

    async def burn(self, password: str) -> None:
        """Spend the time of a real verification, for an unknown account.

        Unknown emails and wrong passwords must take comparable time, or the
        response time tells an attacker which emails have accounts.
        """
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash(secrets.token_urlsafe(16))
        await self.verify(password, self._dummy_hash)


@dataclass(frozen=True, slots=True)
class TokenClaims:
    subject: int
    token_type: TokenType
    jti: str
    session_id: str
    issued_at: datetime
    expires_at: datetime


class InvalidToken(Exception):
    """The token is malformed, forged, expired or of the wrong kind."""


class TokenCodec:
    def __init__(self, secret: bytes, settings: Settings) -> None:
        self._secret = secret
        self._issuer = settings.jwt_issuer
        self._audience = settings.jwt_audience
        self.access_ttl = timedelta(seconds=settings.access_token_ttl_seconds)
        self.refresh_ttl = timedelta(days=settings.refresh_token_ttl_days)

    def issue(
        self,
        subject: int,
        token_type: TokenType,
        session_id: str,
        *,
        jti: str | None = None,
        now: datetime | None = None,
    ) -> tuple[str, TokenClaims]:
        issued = (now or datetime.now(UTC)).replace(microsecond=0)
        ttl = self.access_ttl if token_type == "access" else self.refresh_ttl  # noqa: S105 - a token kind, not a secret
        claims = TokenClaims(
            subject=subject,
            token_type=token_type,
            jti=jti or uuid.uuid4().hex,
            session_id=session_id,
            issued_at=issued,
            expires_at=issued + ttl,
        )
        payload: dict[str, Any] = {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(subject),
            "typ": token_type,
            "jti": claims.jti,
            "sid": session_id,
            "iat": claims.issued_at,
            "exp": claims.expires_at,
        }
        return jwt.encode(payload, self._secret, algorithm=JWT_ALGORITHM), claims

    def decode(self, token: str, expected_type: TokenType) -> TokenClaims:
        try:
            payload = jwt.decode(
                token,
                self._secret,
                algorithms=[JWT_ALGORITHM],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "typ", "jti", "sid"]},
            )
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from exc
        if payload.get("typ") != expected_type:
            raise InvalidToken("wrong token type")
        try:
            return TokenClaims(
                subject=int(payload["sub"]),
                token_type=expected_type,
                jti=str(payload["jti"]),
                session_id=str(payload["sid"]),
                issued_at=datetime.fromtimestamp(int(payload["iat"]), UTC),
                expires_at=datetime.fromtimestamp(int(payload["exp"]), UTC),
            )
        except (TypeError, ValueError) as exc:
            raise InvalidToken("malformed claims") from exc


def digest(value: str) -> str:
    """SHA-256 of a high-entropy secret (API tokens), for lookup without storing it."""
    return hashlib.sha256(value.encode()).hexdigest()
