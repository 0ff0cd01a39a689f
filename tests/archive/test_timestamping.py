"""RFC 3161 time-stamps of anchored checkpoints, against a local fake TSA: tokens are asked for,
checked (nonce, imprint, signature, pinned certificate), kept in the anchored document, checked
again by verify_archive and accepted by ``openssl ts -verify``; a TSA that is down or lies
leaves the checkpoint un-anchored until it answers properly."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import CommandError, call_command

from archive.ledger.anchors import Rfc3161Timestamper
from archive.ledger.models import LogHead
from archive.ledger.services import anchor_checkpoints, checkpoint_and_anchor, checkpoint_log
from archive.ledger.timestamping import (
    TimestampError,
    build_request,
    check_token,
    parse_response,
)
from compliance_hub.tenancy.context import tenant_scope
from tests.archive.fake_tsa import FakeTsa
from tests.archive.ledger_helpers import archive_sample, employee_of

NOTE = b"compliance-hub/archive-log/v1\ntenant 1 firm-a\nsize 3\nroot ab\ntime 2026-11-26Z\n"


@pytest.fixture(scope="module")
def tsa():
    fake = FakeTsa().start()
    yield fake
    fake.stop()


@pytest.fixture(autouse=True)
def _honest(tsa):
    tsa.mode = "ok"


@pytest.fixture
def ledger_settings(settings, tmp_path, tsa):
    settings.LEDGER_ANCHORS = ["folder"]
    settings.LEDGER_ANCHOR_DIR = tmp_path / "anchors"
    settings.LEDGER_TSA_URL = tsa.url
    settings.LEDGER_TSA_CERT_SHA256 = tsa.fingerprint
    settings.LEDGER_TSA_TIMEOUT = 2.0
    return settings


# --- the protocol, no database -----------------------------------------------------------------


def test_a_granted_token_covers_the_note_and_is_signed_by_the_tsa(tsa):
    token = parse_response(tsa.answer(build_request(NOTE, nonce=42)), data=NOTE, nonce=42)
    info = check_token(token, data=NOTE, pinned_certificate_sha256=tsa.fingerprint)
    assert info.imprint_sha256 == __import__("hashlib").sha256(NOTE).hexdigest()
    assert info.tsa_certificate_sha256 == tsa.fingerprint
    assert info.policy == "1.3.6.1.4.1.55555.1.1"
    assert info.gen_time.tzinfo is not None
    # The token is about this note and no other.
    with pytest.raises(TimestampError, match="imprint differs"):
        check_token(token, data=NOTE + b"x")
    # ... and from this TSA when one is pinned.
    with pytest.raises(TimestampError, match="pinned"):
        check_token(token, data=NOTE, pinned_certificate_sha256="00" * 32)


@pytest.mark.parametrize(
    ("mode", "message"),
    [
        ("rejection", "refused: rejection policy not accepted"),
        ("wrong_nonce", "nonce differs"),
        ("wrong_imprint", "imprint differs"),
        ("tampered", "message digest differs"),
    ],
)
def test_a_tsa_answer_that_is_not_for_us_or_not_intact_is_refused(tsa, mode, message):
    tsa.mode = mode
    answer = tsa.answer(build_request(NOTE, nonce=7))
    with pytest.raises(TimestampError, match=message):
        parse_response(answer, data=NOTE, nonce=7)


def test_garbage_is_refused_not_crashed_on():
    for junk in (b"", b"<html>", b"\x30\x03\x02\x01\x00", bytes(range(256))):
        with pytest.raises(TimestampError):
            parse_response(junk, data=NOTE, nonce=1)
        with pytest.raises(TimestampError):
            check_token(junk, data=NOTE)


def test_a_signature_made_with_another_key_is_refused(tsa):
    """The token carries an impostor's certificate in place of the signer's: the signature no
    longer verifies under it."""
    impostor = FakeTsa("Impostor")
    token = parse_response(tsa.answer(build_request(NOTE, nonce=5)), data=NOTE, nonce=5)
    swapped = token.replace(tsa.certificate_der, impostor.certificate_der)
    assert swapped != token
    with pytest.raises(TimestampError):
        check_token(swapped, data=NOTE)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_openssl_verifies_the_token_too(tsa, tmp_path):
    """What an auditor does with an anchored document and the TSA's certificate, no us."""
    token = parse_response(tsa.answer(build_request(NOTE, nonce=9)), data=NOTE, nonce=9)
    (tmp_path / "note").write_bytes(NOTE)
    (tmp_path / "token.der").write_bytes(token)
    (tmp_path / "tsa.pem").write_bytes(tsa.certificate_pem())
    argv = ["openssl", "ts", "-verify", "-data", str(tmp_path / "note"), "-token_in",
            "-in", str(tmp_path / "token.der"), "-CAfile", str(tmp_path / "tsa.pem")]  # fmt: skip
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert "Verification: OK" in done.stdout, done.stdout + done.stderr
    (tmp_path / "note").write_bytes(NOTE + b"changed")
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False)
    assert "Verification: OK" not in done.stdout


def _ca_issued_tsa(folder) -> x509.Certificate:
    """A TSA as the public ones are set up: an RSA key whose certificate a root CA issued
    (critical timeStamping usage), written to ``folder`` with the CA as tsa.pem, tsa.key, ca.pem."""
    now = datetime.now(UTC)

    def issue(subject, public_key, issuer, key, extensions):
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
        )
        for extension, critical in extensions:
            builder = builder.add_extension(extension, critical=critical)
        return builder.sign(key, hashes.SHA256())

    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca = issue("Test Root CA", ca_key.public_key(), "Test Root CA", ca_key,
               [(x509.BasicConstraints(ca=True, path_length=None), True)])  # fmt: skip
    tsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    leaf = issue("Test TSA", tsa_key.public_key(), "Test Root CA", ca_key,
                 [(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)])  # fmt: skip
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.pem").write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    (folder / "tsa.key").write_bytes(
        tsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return leaf


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_token_from_openssls_own_tsa_with_its_chain_is_accepted(tmp_path):
    """Tokens our fake did not make: OpenSSL's ``ts -reply`` (what many TSAs run), signed with
    RSA by a CA-issued certificate and carrying the chain. (rfc3161-client 1.0.9 cannot even
    read these: their certificates are not in DER SET OF order; docs/dependencies.md.)"""
    leaf = _ca_issued_tsa(tmp_path)
    (tmp_path / "serial").write_text("01\n")
    (tmp_path / "tsa.cnf").write_text(
        "[ tsa ]\ndefault_tsa = here\n[ here ]\n"
        f"serial = {tmp_path / 'serial'}\nsigner_cert = {tmp_path / 'tsa.pem'}\n"
        f"certs = {tmp_path / 'ca.pem'}\nsigner_key = {tmp_path / 'tsa.key'}\n"
        "signer_digest = sha256\ndefault_policy = 1.2.3.4.1\ndigests = sha256\n"
        "ess_cert_id_alg = sha256\n"
    )
    (tmp_path / "request.tsq").write_bytes(build_request(NOTE, nonce=12345))
    argv = ["openssl", "ts", "-reply", "-config", "tsa.cnf", "-queryfile", "request.tsq",
            "-out", "reply.tsr"]  # fmt: skip
    done = subprocess.run(
        argv, cwd=tmp_path, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr

    token = parse_response((tmp_path / "reply.tsr").read_bytes(), data=NOTE, nonce=12345)
    pin = leaf.fingerprint(hashes.SHA256()).hex()
    info = check_token(token, data=NOTE, pinned_certificate_sha256=pin)
    assert info.tsa_certificate_sha256 == pin and info.policy == "1.2.3.4.1"
    with pytest.raises(TimestampError, match="imprint differs"):
        check_token(token, data=NOTE + b"x", pinned_certificate_sha256=pin)


def test_the_client_refuses_an_unreachable_or_failing_tsa(tsa):
    with pytest.raises(TimestampError, match="unreachable"):
        Rfc3161Timestamper("http://127.0.0.1:1/tsa", timeout=1).timestamp(NOTE)
    tsa.mode = "http_500"
    with pytest.raises(TimestampError, match="HTTP 500"):
        Rfc3161Timestamper(tsa.url, timeout=2).timestamp(NOTE)
    tsa.mode = "garbage"
    with pytest.raises(TimestampError):
        Rfc3161Timestamper(tsa.url, timeout=2).timestamp(NOTE)


# --- in the ledger -----------------------------------------------------------------------------


def anchored_documents(settings, tenant) -> list[dict]:
    files = sorted((settings.LEDGER_ANCHOR_DIR / str(tenant.pk)).rglob("*.json"))
    return [json.loads(path.read_text()) for path in files]


def test_every_anchored_checkpoint_carries_a_valid_time_stamp(tenant_a, ledger_settings, tsa):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    before = tsa.requests
    checkpoint_and_anchor(tenant=tenant_a)

    [document] = anchored_documents(ledger_settings, tenant_a)
    assert tsa.requests == before + 1
    token = base64.b64decode(document["rfc3161_token"])
    info = check_token(
        token, data=document["signed_note"].encode(), pinned_certificate_sha256=tsa.fingerprint
    )
    assert info.tsa_certificate_sha256 == tsa.fingerprint

    out = StringIO()
    call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "time-stamped by the TSA at" in out.getvalue()


def test_while_the_tsa_is_down_nothing_is_anchored_untimestamped(tenant_a, ledger_settings, tsa):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    checkpoint_log(tenant=tenant_a)
    tsa.mode = "http_500"
    with pytest.raises(TimestampError):
        anchor_checkpoints(tenant=tenant_a)
    assert anchored_documents(ledger_settings, tenant_a) == []
    with tenant_scope(tenant_a):
        assert LogHead.objects.get().anchored_checkpoint_id is None
    # The next beat, with the TSA back, anchors it with its token.
    tsa.mode = "ok"
    assert anchor_checkpoints(tenant=tenant_a) == 1
    [document] = anchored_documents(ledger_settings, tenant_a)
    assert document["rfc3161_token"]


def test_verify_archive_reports_a_forged_or_missing_time_stamp(tenant_a, ledger_settings, tsa):
    archive_sample(tenant_a, employee_of(tenant_a), count=2)
    checkpoint_and_anchor(tenant=tenant_a)
    [path] = sorted((ledger_settings.LEDGER_ANCHOR_DIR / str(tenant_a.pk)).rglob("*.json"))
    document = json.loads(path.read_text())

    # A token over another note (someone re-stamped a back-dated checkpoint, say).
    other = parse_response(
        tsa.answer(build_request(b"another note", nonce=3)), data=b"another note", nonce=3
    )
    document["rfc3161_token"] = base64.b64encode(other).decode()
    path.chmod(0o644)
    path.write_text(json.dumps(document))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "time-stamp" in out.getvalue() and "imprint differs" in out.getvalue()

    # No token at all, though a TSA is configured.
    del document["rfc3161_token"]
    path.write_text(json.dumps(document))
    out = StringIO()
    with pytest.raises(CommandError):
        call_command("verify_archive", tenant_a.slug, stdout=out)
    assert "has no RFC 3161 time-stamp" in out.getvalue()
