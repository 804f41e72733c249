"""`appraisal seal`: the operator makes the bureau's seal authority once, gives every
institution its seal certificate, prints the root and writes the CRL; production refuses
to run without the folder."""

import asyncio
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import async_sessionmaker
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from appraisal.cli import main
from appraisal.core.seal import SealAuthority, SealAuthorityMissing, SealLoader
from appraisal.core.settings import Settings
from appraisal.db.models import SealCertificate
from appraisal.embedded import EmbeddedPostgres
from appraisal.seed import INSTITUTIONS


async def test_seal_init_issue_root_and_crl(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    postgres: EmbeddedPostgres,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    folder = tmp_path / "seal"
    monkeypatch.setenv("SEAL_DIR", str(folder))
    monkeypatch.setenv("DATABASE_URL", postgres.url("appraisal"))
    assert await asyncio.to_thread(main, ["seal", "root"]) == 2  # nothing made yet
    assert "appraisal seal init" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["seal", "init"]) == 2  # the bureau's name is needed
    capsys.readouterr()

    assert await asyncio.to_thread(main, ["seal", "init", "--bureau", "重庆市司法局"]) == 0
    assert "重庆市司法局" in capsys.readouterr().out
    assert await asyncio.to_thread(main, ["seal", "init", "--bureau", "another"]) == 2  # never replaced
    assert "already has a certificate authority" in capsys.readouterr().err
    assert (folder / "bureau-ca.key").stat().st_mode & 0o077 == 0  # the keys are the owner's alone

    assert await asyncio.to_thread(main, ["seal", "root"]) == 0
    root = x509.load_pem_x509_certificate(capsys.readouterr().out.encode())
    assert "重庆市司法局" in root.subject.rfc4514_string()

    assert await asyncio.to_thread(main, ["seal", "issue"]) == 0
    assert capsys.readouterr().out.strip() == f"issued {len(INSTITUTIONS)} seal certificates"
    assert await asyncio.to_thread(main, ["seal", "issue"]) == 0  # once each
    assert capsys.readouterr().out.strip() == "issued 0 seal certificates"
    async with sessions() as session:
        issued = (await session.exec(select(SealCertificate))).all()
    assert {c.institution_id for c in issued} == {i.id for i in INSTITUTIONS}
    for certificate in issued:
        parsed = x509.load_pem_x509_certificate(certificate.certificate_pem.encode())
        parsed.verify_directly_issued_by(root)
        assert (folder / "seals" / f"{certificate.serial}.key").exists()

    out = tmp_path / "bureau.crl"
    assert await asyncio.to_thread(main, ["seal", "crl", "--out", str(out)]) == 0
    crl = x509.load_der_x509_crl(out.read_bytes())
    public_key = root.public_key()
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    assert crl.is_signature_valid(public_key) and len(list(crl)) == 0


def test_production_needs_its_seal_folder_made_by_the_operator(tmp_path: Path) -> None:
    secret, key = "s" * 40, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
    with pytest.raises(ValidationError, match="SEAL_DIR is needed in production"):
        Settings(environment="production", jwt_secret=secret, anchor_signing_key=key)
    production = SealLoader(tmp_path / "empty", environment="production")
    with pytest.raises(SealAuthorityMissing, match="appraisal seal init"):
        production()
    assert not (tmp_path / "empty").exists()  # nothing made behind the operator's back
    made = SealLoader(tmp_path / "dev", environment="dev")()  # dev and tests make a demo one
    assert isinstance(made.authority, SealAuthority) and (tmp_path / "dev" / "bureau-ca.pem").exists()
    encrypted = SealAuthority.create(tmp_path / "locked", bureau_name="x", passphrase="口令 passphrase")
    assert b"ENCRYPTED" in (tmp_path / "locked" / "bureau-ca.key").read_bytes()
    assert SealAuthority(tmp_path / "locked", "口令 passphrase").root == encrypted.root
    with pytest.raises(TypeError):
        SealAuthority(tmp_path / "locked")  # a key that needs its passphrase
