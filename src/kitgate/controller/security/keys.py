"""Ed25519 key ring on disk: one active signing key per purpose, older keys kept to verify until retired.

Why files and not the database: a signing key in the store would hand every reader of a backup the power
to mint tokens. The key dir (KITGATE_KEYS_DIR, default <data_dir>/keys) is made once by `kitgate init`
(or by the first `kitgate serve` on SQLite) and shared read-only by every replica; replicas never write it.
"""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PURPOSES = ("token", "envelope", "audit")  # audit: the PostgreSQL trail's signed checkpoints (pg/audit.py)
_REFRESH_EVERY_S = 2.0


class KeysMissing(ValueError):
    """The key dir lacks a signing key for some purpose and this process may not create one."""


@dataclass(frozen=True)
class SigningKey:
    kid: str
    purpose: str
    created_at: float
    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    def public_jwk(self) -> dict[str, str]:
        raw = self.public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
        return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": self.kid, "alg": "EdDSA", "use": "sig"}


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


class KeyRing:
    """Keys live in <keys_dir>/<purpose>-<created>-<kid>.pem (0600); the newest one at load time signs.

    A running process re-reads the dir when it meets an unknown `kid` (at most every few seconds), so keys
    rotated by the CLI verify at once everywhere. That re-read adds keys to verify with but never changes
    the signing key: a replica moves to a newly rotated key at its next start, so an operator decides when
    (after the workers have the new public key, docs/deploy.md), not whoever sends an unknown `kid`.
    """

    def __init__(self, keys_dir: Path) -> None:
        self.dir = Path(keys_dir)
        self._keys: dict[str, list[SigningKey]] = {}
        self._active: dict[str, SigningKey] = {}
        self._refreshed_at = time.monotonic()

    def load(self, create: bool = True) -> None:
        """Read every key. `create`: make the dir (0700) and a key for each purpose that has none (the
        embedded SQLite default, `kitgate init`). Without it, a purpose with no key raises KeysMissing
        naming the dir and `kitgate init`; the dir is only read (it may be a read-only mount)."""
        if create:
            self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            if self.dir.stat().st_uid == os.geteuid():  # tighten our own dir; a mount someone else owns stays
                os.chmod(self.dir, 0o700)
        keys = self._read()
        missing = [p for p in PURPOSES if not keys[p]]
        if missing and not create:
            where = "does not exist" if not self.dir.is_dir() else f"has no {' or '.join(missing)} signing key"
            raise KeysMissing(f"key dir {self.dir} (KITGATE_KEYS_DIR) {where}: run `kitgate init` once with this "
                              "KITGATE_KEYS_DIR, then give every replica the same dir (read-only)")
        self._keys = keys
        self._active = {p: keys[p][-1] for p in PURPOSES if keys[p]}
        for purpose in missing:
            self.rotate(purpose)

    def _read(self) -> dict[str, list[SigningKey]]:
        keys: dict[str, list[SigningKey]] = {p: [] for p in PURPOSES}
        if not self.dir.is_dir():
            return keys
        for path in sorted(self.dir.glob("*.pem")):
            parts = path.stem.split("-", 2)
            if len(parts) != 3 or parts[0] not in keys or not parts[1].isdigit():
                continue  # not one of ours
            purpose, created, kid = parts
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise ValueError(f"{path.name} is not an Ed25519 key")
            keys[purpose].append(SigningKey(kid, purpose, int(created) / 1000, private))
        return keys

    def rotate(self, purpose: str) -> SigningKey:
        """Write a new key for `purpose`; this process signs with it from now on (others at their next start)."""
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        private = Ed25519PrivateKey.generate()
        kid = secrets.token_hex(8)
        # strictly after the newest key known here: file names sort by this number, and two rotations in
        # one millisecond must not leave the choice of the signing key to the random kid
        newest = max((round(k.created_at * 1000) for k in self._keys.get(purpose, [])), default=0)
        created = max(int(time.time() * 1000), newest + 1)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        _write_private(self.dir / f"{purpose}-{created:015d}-{kid}.pem", pem)
        key = SigningKey(kid, purpose, created / 1000, private)
        self._keys.setdefault(purpose, []).append(key)
        self._active[purpose] = key
        return key

    def active(self, purpose: str) -> SigningKey:
        return self._active[purpose]

    def verifying_key(self, purpose: str, kid: str) -> Ed25519PublicKey | None:
        """A miss re-reads the key dir (at most every few seconds), so a key rotated by the CLI verifies at once."""
        for key in self._keys.get(purpose, []):
            if key.kid == kid:
                return key.public
        now = time.monotonic()
        if now - self._refreshed_at < _REFRESH_EVERY_S:
            return None
        self._refreshed_at = now
        try:
            found = self._read()
        except (OSError, ValueError):
            return None  # a broken file in the key dir must not take verification down; keep the loaded keys
        for p, loaded in found.items():
            known = {k.kid for k in self._keys.get(p, [])}
            self._keys.setdefault(p, []).extend(k for k in loaded if k.kid not in known)
            self._keys[p].sort(key=lambda k: k.created_at)
        return next((k.public for k in self._keys.get(purpose, []) if k.kid == kid), None)

    def verifying_keys(self, purpose: str) -> dict[str, Ed25519PublicKey]:
        return {k.kid: k.public for k in self._keys.get(purpose, [])}

    def jwks(self, purpose: str) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.public_jwk() for k in self._keys.get(purpose, [])]}
