"""Delivery fixtures: a completed access/portability request (the demo stores, the West data map) and a
real HTTPS recipient on 127.0.0.1 with a certificate made in the test.

``completed(...)`` does what the privacy office and the runner do: submit, verify by the e-mailed code,
approve (facts checked) and run; the sealed package is then in ``CHARTER_HOME/packages``.
``recipient`` is a threaded ``http.server`` behind TLS whose answers a test scripts (``answers``) and
which keeps what it received; ``ca_bundle`` is the PEM of the CA that signed its certificate.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from charter.datamap.model import DataMap
from charter.db import Database
from charter.demo import stores
from charter.execution import service
from charter.execution.runner import Runner
from charter.requests.kinds import RequestKind
from charter.settings import DatabaseSettings, DeliverySettings, ExecutionSettings, Settings
from charter.subjects.service import Vault
from tests.execution.conftest import ANA, DATAMAP, approved
from tests.requests.conftest import Recorder
from tests.subjects.factories import make_vault, publish_examples


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    stores.create(path, count=30)
    return path


@dataclass(frozen=True)
class Authority:
    """A certificate authority made for one test, and a server certificate it signed for 127.0.0.1."""

    ca_pem: Path
    cert_pem: Path
    key_pem: Path


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def make_authority(folder: Path, *, host: str = "127.0.0.1") -> Authority:
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Charter test CA"))
        .issuer_name(_name("Charter test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name(host))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    folder.mkdir(parents=True, exist_ok=True)
    authority = Authority(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    authority.ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    authority.cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    authority.key_pem.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return authority


@dataclass
class Recipient:
    """What the HTTPS recipient received, and the statuses it answers in turn (then 200)."""

    port: int
    answers: list[int] = field(default_factory=list)
    received: list[dict[str, Any]] = field(default_factory=list)
    location: str = "https://127.0.0.1/elsewhere"

    def url(self, path: str = "/inbox/charter?account=42") -> str:
        return f"https://127.0.0.1:{self.port}{path}"


def _handler(recipient: Recipient) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            recipient.received.append({"path": self.path, "headers": dict(self.headers), "body": body})
            status = recipient.answers.pop(0) if recipient.answers else 200
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", recipient.location)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@pytest.fixture
def authority(tmp_path: Path) -> Authority:
    return make_authority(tmp_path / "tls")


@contextmanager
def running_recipient(authority: Authority) -> Iterator[Recipient]:
    """A real HTTPS server on 127.0.0.1 (a random port), its certificate signed by ``authority``."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), http.server.BaseHTTPRequestHandler)
    found = Recipient(port=server.server_address[1])
    server.RequestHandlerClass = _handler(found)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(authority.cert_pem, authority.key_pem)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield found
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


@pytest.fixture
def recipient(authority: Authority) -> Iterator[Recipient]:
    with running_recipient(authority) as running:
        yield running


@pytest.fixture
def config(database: Database, home: Path, authority: Authority) -> Settings:
    publish_examples(database)
    return Settings.load(
        env="test",
        home=home,
        database=DatabaseSettings(url=database.url),
        execution=ExecutionSettings(max_attempts=3, retry_base=0.01, retry_max=0.05),
        delivery=DeliverySettings(
            ca_bundle=authority.ca_pem, allow_private_recipients=True, timeout=10, retry_base=0.01, retry_max=0.02
        ),
    )


@pytest.fixture
def vault(config: Settings) -> Vault:
    return make_vault(config.secret_key())


@pytest.fixture
def datamap(config: Settings) -> DataMap:
    return service.load_datamap(config, DATAMAP)


def completed(
    database: Database,
    config: Settings,
    vault: Vault,
    datamap: DataMap,
    kind: RequestKind = RequestKind.ACCESS,
    email: str = ANA,
    **details: Any,
) -> str:
    """A request of ``kind`` approved and carried out (the package written); its public id."""
    public_id = approved(database, config, vault, kind, email, **details)
    outcome = Runner(database, config, vault, datamap, sleep=lambda _s: None).run(public_id)
    assert outcome.status == "completed", outcome.error
    return public_id


@pytest.fixture
def mailer() -> Recorder:
    return Recorder()
