"""`kitgate serve --tls-cert --tls-key`: HTTPS with a self-signed CA made here, and one-line start-up errors."""

from __future__ import annotations

import datetime
import ipaddress
import os
import ssl
import subprocess
import time
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from harness import FAST_ENV, KITGATE, START_TIMEOUT_S, ControllerProcess, clean_env, run_kitgate


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def make_pki(where: Path) -> tuple[Path, Path, Path]:
    """A CA and a server certificate for 127.0.0.1 signed by it: (ca.pem, server.pem, server.key)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name("kitgate test CA")).issuer_name(_name("kitgate test CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name("127.0.0.1")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_path, cert_path, key_path = where / "ca.pem", where / "server.pem", where / "server.key"
    ca_path.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return ca_path, cert_path, key_path


class TlsController(ControllerProcess):
    """ControllerProcess started with --tls-cert/--tls-key, spoken to over https with the test CA."""

    def __init__(self, tmp_dir: Path, cert: Path, key: Path, ca: Path) -> None:
        self.cert, self.key, self.ca = cert, key, ca
        super().__init__(tmp_dir, env=FAST_ENV, start=False)

    def start(self) -> TlsController:
        self.port_file.unlink(missing_ok=True)
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(
                [KITGATE, "serve", "--host", "127.0.0.1", "--port", "0", "--port-file", str(self.port_file),
                 "--data-dir", str(self.data_dir), "--tls-cert", str(self.cert), "--tls-key", str(self.key)],
                env=clean_env(self.env), stdout=log, stderr=log, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"controller exited during start:\n{self.logs()[-3000:]}")
            if self.port_file.exists() and self.port_file.read_text().strip():
                self.port = int(self.port_file.read_text())
                try:
                    if httpx.get(f"{self.url}/readyz", verify=self.verify(), timeout=5).status_code == 200:
                        return self
                except httpx.TransportError:
                    pass
            time.sleep(0.05)
        self.kill()
        raise RuntimeError("TLS controller not ready")

    def verify(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca))

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def client(self, token: str | None = None, timeout: float = 30.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout, verify=self.verify())


@pytest.fixture(scope="module")
def pki(tmp_path_factory) -> tuple[Path, Path, Path]:
    return make_pki(tmp_path_factory.mktemp("pki"))


@pytest.fixture(scope="module")
def tls_ctl(pki, tmp_path_factory):
    ca, cert, key = pki
    ctl = TlsController(tmp_path_factory.mktemp("tls"), cert, key, ca)
    ctl.start()
    yield ctl
    ctl.stop()


def test_https_with_the_ca(tls_ctl: TlsController) -> None:
    with tls_ctl.admin() as admin:
        r = admin.get("/v1/jobs")
        assert r.status_code == 200 and r.url.scheme == "https"
    with tls_ctl.client(tls_ctl.mint_token("jobs:submit")) as op:
        assert op.post("/v1/validate", json={"code": "x = 1\n"}).json()["ok"] is True


def test_untrusted_certificates_and_plain_http_are_refused(tls_ctl: TlsController) -> None:
    with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
        httpx.get(f"{tls_ctl.url}/healthz", verify=ssl.create_default_context())  # system CAs only
    with pytest.raises(httpx.TransportError):
        httpx.get(f"http://127.0.0.1:{tls_ctl.port}/healthz", timeout=5)  # no cleartext fallback
    assert httpx.get(f"{tls_ctl.url}/healthz", verify=tls_ctl.verify()).status_code == 200  # still serving


def test_bad_tls_options_are_one_clean_line(pki, tmp_path: Path) -> None:
    ca, cert, key = pki
    other_key = tmp_path / "other.key"
    other_key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    unreadable = tmp_path / "unreadable.key"
    unreadable.write_bytes(key.read_bytes())
    os.chmod(unreadable, 0)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("not a certificate\n")
    cases = [
        (["--tls-cert", str(tmp_path / "missing.pem"), "--tls-key", str(key)], "--tls-cert"),
        (["--tls-cert", str(cert), "--tls-key", str(tmp_path / "missing.key")], "--tls-key"),
        (["--tls-cert", str(cert)], "KITGATE_TLS_KEY"),
        (["--tls-cert", str(cert), "--tls-key", str(other_key)], "not a PEM certificate and its private key"),
        (["--tls-cert", str(garbage), "--tls-key", str(key)], "not a PEM certificate and its private key"),
    ]
    if os.geteuid() != 0:  # root reads mode-0 files anyway
        cases.append((["--tls-cert", str(cert), "--tls-key", str(unreadable)], "cannot be read"))
    for args, expected in cases:
        out = run_kitgate(["serve", "--port", "0", "--data-dir", str(tmp_path / "d"), *args], check=False, timeout=60)
        lines = out.stderr.strip().splitlines()
        assert out.returncode == 2 and len(lines) == 1 and expected in lines[0], (args, out.stderr)
        assert "BEGIN" not in out.stderr  # never echoes key material
