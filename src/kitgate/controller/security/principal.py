"""Who is calling: the verified identity every authorised endpoint receives."""

from __future__ import annotations

from dataclasses import dataclass

SCOPES = ("jobs:submit", "jobs:read", "worker", "admin")


@dataclass(frozen=True)
class Principal:
    sub: str
    kind: str  # "token" | "apikey"
    scopes: frozenset[str]
    policies: frozenset[str] | None  # None: any policy
    token_id: str

    def has(self, scope: str) -> bool:
        # admin manages everything but never acts as a worker: workers and operators stay separate identities
        return scope in self.scopes or ("admin" in self.scopes and scope != "worker")

    def may_use_policy(self, name: str) -> bool:
        return self.policies is None or name in self.policies
