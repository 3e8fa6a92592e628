"""Certificates for the embedded server's TLS listener, made with :mod:`cryptography`.

A private CA (``ca.crt``/``ca.key``, EC P-256, ten years) is made once in the server's
``tls`` directory and kept; the server certificate (``server.crt``/``server.key``, signed by
it, two years) names the listen host and localhost, 127.0.0.1, ::1 and this machine's name,
and is made again when those names change. Clients verify the server with
``sslmode=verify-full sslrootcert=<home>/tls/ca.crt``.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import socket
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_WILDCARDS = {"0.0.0.0", "::", "*"}


def server_names(host: str) -> list[str]:
    """The names and addresses the server certificate carries for a listen host."""
    names = [] if host in _WILDCARDS else [host]
    names += ["localhost", "127.0.0.1", "::1", socket.gethostname()]
    return list(dict.fromkeys(n.lower() for n in names if n))


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM,
                             serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(names: list[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


def _normal(name: str) -> str:
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name


def _cert_names(path: Path) -> list[str] | None:
    try:
        cert = x509.load_pem_x509_certificate(path.read_bytes())
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (OSError, ValueError, x509.ExtensionNotFound):
        return None
    return [*san.get_values_for_type(x509.DNSName),
            *(str(a) for a in san.get_values_for_type(x509.IPAddress))]


def ensure_ca_and_server_cert(directory: Path, names: list[str]) -> list[str]:
    """Make what is missing or outdated in ``directory``; return the file names written."""
    now = dt.datetime.now(dt.UTC)
    written: list[str] = []
    ca_crt, ca_key = directory / "ca.crt", directory / "ca.key"
    if ca_crt.exists() and ca_key.exists():
        ca_cert = x509.load_pem_x509_certificate(ca_crt.read_bytes())
        loaded = serialization.load_pem_private_key(ca_key.read_bytes(), password=None)
        assert isinstance(loaded, ec.EllipticCurvePrivateKey)
        ca_private = loaded
    else:
        ca_private = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME,
                                                "pyexchange embedded server CA")])
        ca_cert = (x509.CertificateBuilder()
                   .subject_name(ca_name).issuer_name(ca_name)
                   .public_key(ca_private.public_key())
                   .serial_number(x509.random_serial_number())
                   .not_valid_before(now - dt.timedelta(minutes=5))
                   .not_valid_after(now + dt.timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                   .add_extension(x509.KeyUsage(
                       digital_signature=False, content_commitment=False,
                       key_encipherment=False, data_encipherment=False, key_agreement=False,
                       key_cert_sign=True, crl_sign=True, encipher_only=False,
                       decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(
                       ca_private.public_key()), critical=False)
                   .sign(ca_private, hashes.SHA256()))
        ca_key.write_bytes(_key_pem(ca_private))
        ca_key.chmod(0o600)
        ca_crt.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
        written += ["ca.key", "ca.crt"]

    srv_crt, srv_key = directory / "server.crt", directory / "server.key"
    current = _cert_names(srv_crt)
    if written or not srv_key.exists() or current is None or \
            sorted(current) != sorted(_normal(n) for n in names):
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(ca_cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(minutes=5))
                .not_valid_after(now + dt.timedelta(days=730))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_san(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_private.public_key()), critical=False)
                .sign(ca_private, hashes.SHA256()))
        srv_key.write_bytes(_key_pem(key))
        srv_key.chmod(0o600)
        srv_crt.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        written += ["server.key", "server.crt"]
    return written
