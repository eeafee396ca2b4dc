"""Certificates and keys for the local control plane (python ``cryptography``).

One self-signed CA signs the serving certificates of kube-apiserver (SANs ``127.0.0.1``,
``localhost`` and the ``kubernetes`` service address), etcd (SANs ``127.0.0.1``, ``localhost``;
server and client usage, as kubeadm's ``etcd/server`` and ``etcd/peer``) and vc-webhook-manager
(SANs ``127.0.0.1``, ``localhost``), the admin client certificate (CN=admin, O=system:masters),
kube-apiserver's etcd client certificate (CN=kube-apiserver-etcd-client, kubeadm's) and
kube-controller-manager's client certificate (CN=system:kube-controller-manager, the user
kubeadm gives it). etcd trusts only client certificates of this CA. A separate key signs
service-account tokens; kube-apiserver verifies them with its public half and
kube-controller-manager signs them with it. Keys are ECDSA P-256: quick to generate and accepted
for serving, client and service-account signing. Every file is written atomically with its mode
set before its content (:func:`hypertopo.rollout.write_files.write_atomic`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hypertopo.rollout.write_files import write_atomic

VALIDITY = dt.timedelta(days=365)


@dataclass(frozen=True)
class Pki:
    """Paths of the generated files."""

    dir: Path
    ca_cert: Path
    ca_key: Path
    serving_cert: Path
    serving_key: Path
    admin_cert: Path
    admin_key: Path
    kcm_cert: Path
    kcm_key: Path
    webhook_cert: Path
    webhook_key: Path
    etcd_cert: Path
    etcd_key: Path
    etcd_client_cert: Path
    etcd_client_key: Path
    sa_key: Path
    sa_pub: Path

    @classmethod
    def at(cls, directory: Path) -> Pki:
        return cls(
            dir=directory,
            ca_cert=directory / "ca.crt",
            ca_key=directory / "ca.key",
            serving_cert=directory / "apiserver.crt",
            serving_key=directory / "apiserver.key",
            admin_cert=directory / "admin.crt",
            admin_key=directory / "admin.key",
            kcm_cert=directory / "kube-controller-manager.crt",
            kcm_key=directory / "kube-controller-manager.key",
            webhook_cert=directory / "vc-webhook-manager.crt",
            webhook_key=directory / "vc-webhook-manager.key",
            etcd_cert=directory / "etcd-server.crt",
            etcd_key=directory / "etcd-server.key",
            etcd_client_cert=directory / "apiserver-etcd-client.crt",
            etcd_client_key=directory / "apiserver-etcd-client.key",
            sa_key=directory / "sa.key",
            sa_pub=directory / "sa.pub",
        )

    def complete(self) -> bool:
        return all(p.is_file() for p in self.files())

    def files(self) -> tuple[Path, ...]:
        return (
            self.ca_cert,
            self.ca_key,
            self.serving_cert,
            self.serving_key,
            self.admin_cert,
            self.admin_key,
            self.kcm_cert,
            self.kcm_key,
            self.webhook_cert,
            self.webhook_key,
            self.etcd_cert,
            self.etcd_key,
            self.etcd_client_cert,
            self.etcd_client_key,
            self.sa_key,
            self.sa_pub,
        )


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _write(path: Path, data: bytes, *, private: bool) -> None:
    write_atomic(path, data, mode=0o600 if private else 0o644)


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey
) -> x509.CertificateBuilder:
    now = dt.datetime.now(dt.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + VALIDITY)
    )


def generate(directory: Path) -> Pki:
    """Create a fresh CA, the serving and client certificates and the SA key pair in ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    pki = Pki.at(directory)

    ca_key = _key()
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "hypertopo-local-ca")])
    ca_cert = (
        _builder(ca_name, ca_name, ca_key.public_key())
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

    def leaf(
        cn: str,
        org: str | None,
        usage: x509.ObjectIdentifier | list[x509.ObjectIdentifier],
        sans: list[x509.GeneralName] | None,
    ) -> tuple[ec.EllipticCurvePrivateKey, x509.Certificate]:
        key = _key()
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        b = (
            _builder(x509.Name(attrs), ca_name, key.public_key())
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=False,
                    crl_sign=False,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.ExtendedKeyUsage(usage if isinstance(usage, list) else [usage]), critical=False
            )
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
            )
        )
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        return key, b.sign(ca_key, hashes.SHA256())

    loopback = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
    # first address of --service-cluster-ip-range, the in-cluster 'kubernetes' service
    service = x509.IPAddress(ipaddress.ip_address("10.0.0.1"))
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    pairs = (
        (pki.serving_cert, pki.serving_key, leaf("kube-apiserver", None, server, [*loopback, service])),
        (pki.admin_cert, pki.admin_key, leaf("admin", "system:masters", client, None)),
        (pki.kcm_cert, pki.kcm_key, leaf("system:kube-controller-manager", None, client, None)),
        (pki.webhook_cert, pki.webhook_key, leaf("volcano-admission-service", None, server, loopback)),
        (pki.etcd_cert, pki.etcd_key, leaf("etcd", None, [server, client], loopback)),
        (pki.etcd_client_cert, pki.etcd_client_key, leaf("kube-apiserver-etcd-client", None, client, None)),
    )
    sa_key = _key()

    _write(pki.ca_key, _key_pem(ca_key), private=True)
    _write(pki.ca_cert, _cert_pem(ca_cert), private=False)
    for cert_file, key_file, (key, cert) in pairs:
        _write(key_file, _key_pem(key), private=True)
        _write(cert_file, _cert_pem(cert), private=False)
    _write(pki.sa_key, _key_pem(sa_key), private=True)
    _write(
        pki.sa_pub,
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ),
        private=False,
    )
    return pki
