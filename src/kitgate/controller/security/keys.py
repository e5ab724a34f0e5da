"""Ed25519 key ring on disk: one active signing key per purpose, older keys kept to verify until retired."""

from __future__ import annotations

import base64
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PURPOSES = ("token", "envelope")
_REFRESH_EVERY_S = 2.0


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
    """Keys live in <data_dir>/keys/<purpose>-<created>-<kid>.pem (0600); the newest one signs."""

    def __init__(self, data_dir: Path) -> None:
        self.dir = Path(data_dir) / "keys"
        self._keys: dict[str, list[SigningKey]] = {}
        self._refreshed_at = time.monotonic()

    def load(self, create: bool = True) -> None:
        self.dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.dir, 0o700)
        keys: dict[str, list[SigningKey]] = {p: [] for p in PURPOSES}
        for path in sorted(self.dir.glob("*.pem")):
            parts = path.stem.split("-", 2)
            if len(parts) != 3 or parts[0] not in keys or not parts[1].isdigit():
                continue  # not one of ours
            purpose, created, kid = parts
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise ValueError(f"{path.name} is not an Ed25519 key")
            keys[purpose].append(SigningKey(kid, purpose, int(created) / 1000, private))
        self._keys = keys
        for purpose in PURPOSES:
            if not keys[purpose] and create:
                self.rotate(purpose)

    def rotate(self, purpose: str) -> SigningKey:
        if purpose not in PURPOSES:
            raise ValueError(f"unknown key purpose {purpose!r}")
        private = Ed25519PrivateKey.generate()
        kid = secrets.token_hex(8)
        created = int(time.time() * 1000)
        pem = private.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        self.dir.mkdir(parents=True, exist_ok=True)
        _write_private(self.dir / f"{purpose}-{created:015d}-{kid}.pem", pem)
        key = SigningKey(kid, purpose, created / 1000, private)
        self._keys.setdefault(purpose, []).append(key)
        return key

    def active(self, purpose: str) -> SigningKey:
        return self._keys[purpose][-1]

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
            self.load(create=False)
        except (OSError, ValueError):
            return None  # a broken file in the key dir must not take verification down; keep the loaded keys
        return next((k.public for k in self._keys.get(purpose, []) if k.kid == kid), None)

    def verifying_keys(self, purpose: str) -> dict[str, Ed25519PublicKey]:
        return {k.kid: k.public for k in self._keys.get(purpose, [])}

    def jwks(self, purpose: str) -> dict[str, list[dict[str, str]]]:
        return {"keys": [k.public_jwk() for k in self._keys.get(purpose, [])]}
