"""Console sign-in sessions, held server-side: the browser keeps only an opaque random id.

Why not put the bearer token in the cookie: a cookie leaks more ways than a header (a proxy log, a
misconfigured path), and a leaked session id dies with the session (sign-out, expiry, restart) while a
leaked token lives until it expires. The id is never stored either: sessions are keyed by its SHA-256,
so the table says nothing a stolen memory dump could replay without the cookie.

A session never outlives its credential: its expiry is the earlier of the console TTL and the token's
(or API key's) own expiry, and every request re-checks that the credential is still live (revocation
ends every session made from it). Sessions are in memory, so a controller restart signs everyone out,
and they belong to one replica: behind a load balancer with several replicas, route /console with sticky
sessions, or a viewer signs in again on the replica it lands on (docs/deploy.md). The revocation check
reads the shared store, so revoking a credential ends its sessions on every replica.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from kitgate.controller.security.principal import Principal


@dataclass(frozen=True)
class Session:
    principal: Principal
    cidrs: list[str] | None  # the credential's own networks, re-checked on every request
    csrf: str  # synchronizer token for this session's forms
    created_at: float
    expires_at: float

    def csrf_ok(self, presented: str | None) -> bool:
        """Constant-time comparison with the token this session was given."""
        return bool(presented) and hmac.compare_digest(self.csrf.encode(), str(presented).encode())


def _key(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class SessionStore:
    """Bounded, thread-safe map of hashed session id -> Session."""

    def __init__(self, ttl_s: float, max_sessions: int, clock: Callable[[], float] = time.time) -> None:
        self.ttl_s = ttl_s
        self.max_sessions = max_sessions
        self.clock = clock
        self._lock = threading.Lock()
        self._sessions: dict[str, Session] = {}

    def create(self, principal: Principal, cidrs: list[str] | None, credential_expires_at: float | None) -> tuple[
            str, Session]:
        """A new session id (returned once, for the cookie) and its session."""
        now = self.clock()
        expires = now + self.ttl_s
        if credential_expires_at is not None:
            expires = min(expires, credential_expires_at)
        session = Session(principal, cidrs, secrets.token_urlsafe(32), now, expires)
        session_id = secrets.token_urlsafe(32)
        with self._lock:
            self._evict(now)
            self._sessions[_key(session_id)] = session
        return session_id, session

    def get(self, session_id: str) -> Session | None:
        if not session_id or len(session_id) > 128:
            return None
        key = _key(session_id)
        with self._lock:
            session = self._sessions.get(key)
            if session is not None and session.expires_at <= self.clock():
                del self._sessions[key]
                return None
            return session

    def drop(self, session_id: str) -> bool:
        with self._lock:
            return self._sessions.pop(_key(session_id), None) is not None

    def __len__(self) -> int:
        with self._lock:
            return len(self._sessions)

    def _evict(self, now: float) -> None:
        """Expired sessions go first; when still full, the oldest one makes room (its holder signs in again)."""
        if len(self._sessions) < self.max_sessions:
            return
        for key in [k for k, s in self._sessions.items() if s.expires_at <= now]:
            del self._sessions[key]
        while len(self._sessions) >= self.max_sessions:
            oldest = min(self._sessions, key=lambda k: self._sessions[k].created_at)
            del self._sessions[oldest]
