"""The local certificate authority: generated once into the emulator's state folder, it signs one
certificate per host the functions reach, so that the proxy can answer ``https://`` URLs and the
functions verify them (``REQUESTS_CA_BUNDLE``) as they would verify the real hosts'.

Never committed and never trusted outside the local Lambda environments: it lives in
``<state dir>/internet/`` (``.local-aws/`` for ``make local``).
"""

from __future__ import annotations

import datetime
import ipaddress
import ssl
import threading
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CA_CERT = "ca.pem"
CA_KEY = "ca-key.pem"
VALIDITY = datetime.timedelta(days=365)


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "vectora-inbox local AWS"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def _expiring(cert_path: Path) -> bool:
    """A CA kept in a long-lived state folder is replaced a day before it would expire."""
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    return cert.not_valid_after_utc < datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1)


class CertificateAuthority:
    """The CA of ``folder`` (created on first use) and an SSL context per host it signed for."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._lock = threading.Lock()
        self._contexts: dict[str, ssl.SSLContext] = {}
        folder.mkdir(parents=True, exist_ok=True)
        cert_path, key_path = folder / CA_CERT, folder / CA_KEY
        if not (cert_path.exists() and key_path.exists()) or _expiring(cert_path):
            self._create(cert_path, key_path)
        self.cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        loaded = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
        if not isinstance(loaded, ec.EllipticCurvePrivateKey):
            raise ValueError(
                f"{key_path} is not the EC key this module writes: delete {folder} to regenerate"
            )
        self.key = loaded

    @property
    def cert_path(self) -> Path:
        return self.folder / CA_CERT

    @staticmethod
    def _create(cert_path: Path, key_path: Path) -> None:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        name = _name("vectora-inbox local AWS CA")
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
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
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(key, hashes.SHA256())
        )
        key_path.touch(mode=0o600)
        key_path.write_bytes(_pem_key(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))

    def _host_files(self, host: str) -> tuple[Path, Path]:
        key = ec.generate_private_key(ec.SECP256R1())
        now = datetime.datetime.now(datetime.UTC)
        try:
            alt: x509.GeneralName = x509.IPAddress(ipaddress.ip_address(host))
        except ValueError:
            alt = x509.DNSName(host)
        cert = (
            x509.CertificateBuilder()
            .subject_name(_name(host))
            .issuer_name(self.cert.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName([alt]), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), critical=False
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .sign(self.key, hashes.SHA256())
        )
        hosts = self.folder / "hosts"
        hosts.mkdir(exist_ok=True)
        safe = "".join(c if c.isalnum() or c in ".-" else "_" for c in host)
        cert_file, key_file = hosts / f"{safe}.pem", hosts / f"{safe}-key.pem"
        key_file.touch(mode=0o600)
        key_file.write_bytes(_pem_key(key))
        cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_file, key_file

    def server_context(self, host: str) -> ssl.SSLContext:
        """A server-side context presenting a certificate for ``host`` signed by this CA."""
        with self._lock:
            context = self._contexts.get(host)
            if context is None:
                cert_file, key_file = self._host_files(host)
                context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
                context.load_cert_chain(cert_file, key_file)
                self._contexts[host] = context
            return context
