"""The bureau's certificate authority for institutions' seals (司法鉴定专用章), and the
timestamp authority the product runs itself (the court network is closed).

One folder (`SEAL_DIR`) holds the authority's keys:

    bureau-ca.pem, bureau-ca.key   the bureau's root certificate (self-signed) and key
    tsa.pem, tsa.key               the timestamp authority's certificate (from the root)
    seals/<serial>.key             each institution's seal key, by certificate serial

Certificates issued to institutions, and their revocations, are rows in PostgreSQL
(`seal_certificate`, see appraisal/db/seal.py); this module only does the cryptography:
issue, revoke (the CRL), and answer RFC 3161 timestamp requests. Keys are PEM (PKCS #8),
encrypted with `SEAL_KEY_PASSPHRASE` when one is set, and written readable by the owner
only. In production the folder is made once by `appraisal seal init`; dev and tests make
it on first use."""

import os
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from asn1crypto import cms, core, keys, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.padding import PKCS1v15
from cryptography.hazmat.primitives.asymmetric.types import CertificateIssuerPrivateKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.sign.general import as_signing_certificate
from pyhanko.sign.signers import SimpleSigner
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

ROOT_YEARS = 30
TSA_YEARS = 25
ROOT_FILE, ROOT_KEY_FILE = "bureau-ca.pem", "bureau-ca.key"
TSA_FILE, TSA_KEY_FILE = "tsa.pem", "tsa.key"
SEALS = "seals"
TSA_POLICY = f"2.25.{uuid.UUID('1a2522c3-8e0d-4cf0-9d8f-5d3e27a1b3c5').int}"
"""The timestamp policy the authority's tokens name (an OID under 2.25, made from a UUID as
ITU-T X.667 allows, so it needs no registration)."""
ACCEPTED_DIGESTS = {"sha256": 32, "sha384": 48, "sha512": 64}

REVOCATION_REASONS = {
    "suspended": x509.ReasonFlags.certificate_hold,
    "revoked": x509.ReasonFlags.privilege_withdrawn,
    "superseded": x509.ReasonFlags.superseded,
    "key_compromise": x509.ReasonFlags.key_compromise,
}
"""Why a seal certificate was revoked, as the CRL says it (RFC 5280 §5.3.1)."""


DEV_BUREAU = "演示司法局 Demo bureau"
"""Whose name a certificate authority made on first use (dev and tests only) bears."""


class SealAuthorityMissing(RuntimeError):
    """The folder holds no certificate authority (production: run `appraisal seal init`)."""


def _bounded(text: str, limit: int = 64) -> str:
    """At most `limit` bytes of UTF-8 (X.520's upper bound, as cryptography counts it): a
    bilingual name too long keeps its Chinese part, and anything still too long is cut."""
    if len(text.encode()) > limit:
        chinese = re.split(r"[A-Za-z]", text, maxsplit=1)[0].strip()
        text = chinese or text
    while len(text.encode()) > limit:
        text = text[:-1]
    return text.strip()


def _name(common_name: str, organisation: str, identifier: str = "") -> x509.Name:
    attributes = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, _bounded(organisation)),
        x509.NameAttribute(NameOID.COMMON_NAME, _bounded(common_name)),
    ]
    if identifier:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, _bounded(identifier)))
    return x509.Name(attributes)


def _usage(*, signing: bool, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=signing,
        content_commitment=signing,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def pem(certificate: x509.Certificate) -> str:
    return certificate.public_bytes(serialization.Encoding.PEM).decode()


def der(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.DER)


def as_asn1(certificate: x509.Certificate) -> asn1_x509.Certificate:
    return asn1_x509.Certificate.load(der(certificate))


def key_info(key: Any) -> keys.PrivateKeyInfo:
    raw = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return keys.PrivateKeyInfo.load(raw)


def load_certificate(text: str | bytes) -> x509.Certificate:
    data = text.encode() if isinstance(text, str) else text
    if data.lstrip().startswith(b"-----"):
        return x509.load_pem_x509_certificate(data)
    return x509.load_der_x509_certificate(data)


@dataclass(frozen=True)
class IssuedSeal:
    """A seal certificate just issued; its key is already in the folder."""

    serial: str
    """Hex, as the CRL and the verifier print it."""
    certificate_pem: str
    subject: str
    not_before: datetime
    not_after: datetime


@dataclass(frozen=True)
class Revoked:
    serial: str
    revoked_at: datetime
    reason: str
    """One of REVOCATION_REASONS."""


# pyHanko loads (and so checks) an RSA key from its DER again at every signature: about
# 0.1 s for RSA-3072, six times in one seal. The two classes below sign with the key object
# loaded once instead (bench.report_seal measures both ways).


class KeptKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner signing with the RSA key object it was given."""

    def __init__(self, *, key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(signing_key=key_info(key), **kwargs)
        self._key = key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        if mechanism != "rsassa_pkcs1v15":
            return bytes(super().sign_raw(data, digest_algorithm))
        return self._key.sign(data, PKCS1v15(), get_pyca_cryptography_hash(digest_algorithm))


class BureauTimeStamper(DummyTimeStamper):
    """pyHanko's RFC 3161 token maker with the authority's policy OID, UTC times and a
    128-bit random serial, signing with the key object it was given: what
    `POST /v1/timestamp` answers and what sealing uses."""

    def __init__(self, *, key: rsa.RSAPrivateKey, **kwargs: Any) -> None:
        super().__init__(tsa_key=key_info(key), **kwargs)
        self._key = key

    def _sign_tst_info(self, tst_info_data: bytes, md_algorithm: str, dt: datetime) -> tuple[bytes, Any]:
        digest = hashes.Hash(get_pyca_cryptography_hash(md_algorithm))
        digest.update(tst_info_data)
        signed_attrs = cms.CMSAttributes(
            [
                cms.CMSAttribute({"type": kind, "values": (value,)})
                for kind, value in (
                    ("content_type", "tst_info"),
                    ("signing_time", cms.Time({"utc_time": core.UTCTime(dt)})),
                    ("signing_certificate", as_signing_certificate(self.tsa_cert)),
                    ("message_digest", digest.finalize()),
                )
            ]
        )
        signature = self._key.sign(
            signed_attrs.dump(), PKCS1v15(), get_pyca_cryptography_hash(md_algorithm.upper())
        )
        return signature, signed_attrs

    def _build_tst_info(
        self, message_imprint: tsp.MessageImprint, dt: datetime, req: tsp.TimeStampReq
    ) -> tsp.TSTInfo:
        info: dict[str, Any] = {
            "version": "v1",
            "policy": tsp.ObjectIdentifier(TSA_POLICY),
            "message_imprint": message_imprint,
            "serial_number": int.from_bytes(os.urandom(16), "big") >> 1,
            "gen_time": dt.astimezone(UTC),
            "accuracy": {"seconds": 1},
            "ordering": False,
            "tsa": asn1_x509.GeneralName(name="directory_name", value=self.tsa_cert.subject),
        }
        if req["nonce"].native is not None:
            info["nonce"] = req["nonce"]
        return tsp.TSTInfo(info)


class SealAuthority:
    """The keys of one folder; see the module's docstring."""

    def __init__(self, folder: Path, passphrase: str = "") -> None:
        self.folder = folder
        self._passphrase = passphrase.encode() if passphrase else None
        try:
            self.root = load_certificate((folder / ROOT_FILE).read_bytes())
            self.tsa = load_certificate((folder / TSA_FILE).read_bytes())
        except FileNotFoundError as err:
            raise SealAuthorityMissing(
                f"no certificate authority in {folder} (run `appraisal seal init`)"
            ) from err
        self._root_key = self._read_key(folder / ROOT_KEY_FILE)
        self._tsa_key = self._read_key(folder / TSA_KEY_FILE)
        self._seal_keys: dict[str, Any] = {}

    # ---- making the folder ----

    @classmethod
    def create(
        cls, folder: Path, *, bureau_name: str, now: datetime | None = None, passphrase: str = ""
    ) -> "SealAuthority":
        """A new root and timestamp authority in an empty folder (refuses to replace one)."""
        if (folder / ROOT_FILE).exists():
            raise FileExistsError(
                f"{folder / ROOT_FILE} exists: the bureau already has a certificate authority"
            )
        now = now or datetime.now(UTC)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / SEALS).mkdir(exist_ok=True)
        secret = passphrase.encode() if passphrase else None
        root_key = ec.generate_private_key(ec.SECP384R1())
        root_name = _name(f"{bureau_name} 司法鉴定电子印章根证书", bureau_name)
        root = (
            x509.CertificateBuilder()
            .subject_name(root_name)
            .issuer_name(root_name)
            .public_key(root_key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=365 * ROOT_YEARS))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(_usage(signing=False, ca=True), critical=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), critical=False)
            .sign(root_key, hashes.SHA384())
        )
        # pyHanko's token maker signs with RSA only.
        tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        tsa = _issue(
            issuer=root,
            issuer_key=root_key,
            subject=_name(f"{bureau_name} 时间戳服务", bureau_name),
            public_key=tsa_key.public_key(),
            not_before=now - timedelta(minutes=5),
            not_after=now + timedelta(days=365 * TSA_YEARS),
            extended_usage=[ExtendedKeyUsageOID.TIME_STAMPING],
        )
        _write_key(folder / ROOT_KEY_FILE, root_key, secret)
        _write_key(folder / TSA_KEY_FILE, tsa_key, secret)
        (folder / TSA_FILE).write_bytes(tsa.public_bytes(serialization.Encoding.PEM))
        (folder / ROOT_FILE).write_bytes(
            root.public_bytes(serialization.Encoding.PEM)
        )  # last: marks it whole
        return cls(folder, passphrase)

    @classmethod
    def open(cls, folder: Path, *, create_for: str = "", passphrase: str = "") -> "SealAuthority":
        """The folder's authority; with `create_for` (a bureau's name: dev and tests), one
        made now if there is none yet."""
        if create_for and not (folder / ROOT_FILE).exists():
            try:
                return cls.create(folder, bureau_name=create_for, passphrase=passphrase)
            except FileExistsError:
                pass  # another process made it meanwhile
        return cls(folder, passphrase)

    # ---- seals ----

    def issue_seal(
        self,
        *,
        institution_id: str,
        institution_name: str,
        days: int,
        now: datetime | None = None,
    ) -> IssuedSeal:
        """A new key and certificate for an institution's seal; the key goes to seals/."""
        now = now or datetime.now(UTC)
        # RSA, not ECDSA: an ECDSA signature makes pyHanko mark the file PDF 2.0 (ISO/TS 32002),
        # which PDF/A-3 (on PDF 1.7) does not allow.
        key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
        certificate = _issue(
            issuer=self.root,
            issuer_key=self._root_key,
            subject=_name(institution_name, institution_name, institution_id),
            public_key=key.public_key(),
            not_before=now - timedelta(minutes=5),
            not_after=min(now + timedelta(days=days), self.root.not_valid_after_utc),
            extended_usage=None,
        )
        serial = f"{certificate.serial_number:x}"
        _write_key(self.folder / SEALS / f"{serial}.key", key, self._passphrase)
        return IssuedSeal(
            serial=serial,
            certificate_pem=pem(certificate),
            subject=certificate.subject.rfc4514_string(),
            not_before=certificate.not_valid_before_utc,
            not_after=certificate.not_valid_after_utc,
        )

    def seal_key(self, serial: str) -> Any:
        """An institution's seal key, read (and checked) once per authority object."""
        if serial not in self._seal_keys:
            self._seal_keys[serial] = self._read_key(self.folder / SEALS / f"{serial}.key")
        return self._seal_keys[serial]

    def crl(self, revoked: list[Revoked], *, now: datetime | None = None, valid_days: int = 7) -> bytes:
        """The certificate revocation list (DER) signed by the root, listing every revoked seal."""
        now = now or datetime.now(UTC)
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.root.subject)
            .last_update(now - timedelta(seconds=1))
            .next_update(now + timedelta(days=valid_days))
            .add_extension(x509.CRLNumber(int(now.timestamp() * 1000)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._root_key.public_key()),
                critical=False,
            )
        )
        for entry in revoked:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(entry.serial, 16))
                .revocation_date(entry.revoked_at)
                .add_extension(
                    x509.CRLReason(REVOCATION_REASONS.get(entry.reason, x509.ReasonFlags.unspecified)),
                    critical=False,
                )
                .build()
            )
        return builder.sign(self._root_key, hashes.SHA384()).public_bytes(serialization.Encoding.DER)

    # ---- timestamps ----

    def timestamper(self, *, at: datetime | None = None) -> BureauTimeStamper:
        """The RFC 3161 authority as pyHanko's TimeStamper (`at`: a fixed time, for tests)."""
        return BureauTimeStamper(
            tsa_cert=as_asn1(self.tsa),
            key=self._tsa_key,
            certs_to_embed=SimpleCertificateStore.from_certs([as_asn1(self.root)]),  # type: ignore[no-untyped-call]
            fixed_dt=at,
        )

    def respond(self, request: bytes) -> bytes:
        """The DER TimeStampResp to a DER TimeStampReq (RFC 3161 §2.4): a token, or a
        rejection naming why."""
        try:
            parsed = tsp.TimeStampReq.load(request)
            imprint = parsed["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            digest = imprint["hashed_message"].native
            parsed.native  # noqa: B018 - parses every field, so a malformed one is refused here
        except (ValueError, TypeError, KeyError):
            return _rejection("bad_data_format", "not a DER TimeStampReq")
        if ACCEPTED_DIGESTS.get(algorithm) != len(digest):
            return _rejection("bad_alg", f"{algorithm} is not accepted (sha256, sha384 or sha512)")
        if parsed["req_policy"].native not in (None, TSA_POLICY):
            return _rejection("unaccepted_policy", f"the only policy is {TSA_POLICY}")
        response: tsp.TimeStampResp = self.timestamper().request_tsa_response(parsed)
        return bytes(response.dump())

    def _read_key(self, path: Path) -> Any:
        return serialization.load_pem_private_key(path.read_bytes(), password=self._passphrase)


def _issue(
    *,
    issuer: x509.Certificate,
    issuer_key: CertificateIssuerPrivateKeyTypes,
    subject: x509.Name,
    public_key: Any,
    not_before: datetime,
    not_after: datetime,
    extended_usage: list[x509.ObjectIdentifier] | None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(_usage(signing=True, ca=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                issuer.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
    )
    if extended_usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended_usage), critical=True)
    return builder.sign(issuer_key, hashes.SHA384())


def _write_key(path: Path, key: Any, passphrase: bytes | None) -> None:
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    )
    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)


class TimestampRejection(core.Sequence):  # type: ignore[misc]
    """A TimeStampResp without a token (asn1crypto's own class insists on one)."""

    _fields = [("status", tsp.PKIStatusInfo)]  # noqa: RUF012 - asn1crypto reads it as is


def _rejection(failure: str, text: str) -> bytes:
    status = tsp.PKIStatusInfo(
        {"status": "rejection", "status_string": [text], "fail_info": tsp.PKIFailureInfo({failure})}
    )
    return bytes(TimestampRejection({"status": status}).dump())


@dataclass(frozen=True)
class SealSettings:
    """What sealing needs: the authority and how long a new seal certificate lasts."""

    authority: SealAuthority
    certificate_days: int


class SealLoader:
    """Opens the folder of SEAL_DIR once, when first needed (so a process starts while the
    folder is not there yet); outside production an authority is made there if none is."""

    def __init__(self, folder: Path, *, environment: str, passphrase: str = "", certificate_days: int = 1095):
        self.folder = folder
        self.environment = environment
        self.passphrase = passphrase
        self.certificate_days = certificate_days
        self._loaded: SealSettings | None = None

    @classmethod
    def of(cls, settings: Any) -> "SealLoader":
        return cls(
            settings.seal_folder(),
            environment=settings.environment,
            passphrase=settings.seal_key_passphrase,
            certificate_days=settings.seal_certificate_days,
        )

    def __call__(self) -> SealSettings:
        if self._loaded is None:
            create_for = "" if self.environment == "production" else DEV_BUREAU
            authority = SealAuthority.open(self.folder, create_for=create_for, passphrase=self.passphrase)
            self._loaded = SealSettings(authority, self.certificate_days)
        return self._loaded
