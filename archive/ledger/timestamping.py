"""RFC 3161 time-stamps over signed checkpoints: the request, the answer, and the check.

A checkpoint signed with the tenant's own key proves what the log held, not when: whoever holds
the key could sign a back-dated one. A time-stamping authority (TSA) outside our control signs
the SHA-256 of the checkpoint's signed note together with its own clock, so the checkpoint is
proven to exist no later than that time. The token (DER, a CMS SignedData over a TSTInfo) goes
into the anchored document as ``rfc3161_token`` and can be checked with no database, by
:func:`check_token` or ``openssl ts -verify``.

ASN.1 structures come from asn1crypto (RFC 3161 and RFC 5652 are defined there); signatures are
checked with cryptography. No network here: :class:`archive.ledger.anchors.Rfc3161Timestamper`
sends the request.

Not rfc3161-client (1.0.9, compared in docs/dependencies.md): it cannot read the tokens OpenSSL's
``ts -reply`` issues with a certificate chain (their SET OF is not in DER order), it verifies only
against a trusted root CA while we pin the TSA's own certificate, and it reads whole responses,
not the bare token an anchored document keeps.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from asn1crypto import algos, cms, core, tsp
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa

REQUEST_CONTENT_TYPE = "application/timestamp-query"
REPLY_CONTENT_TYPE = "application/timestamp-reply"
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "sha256": hashes.SHA256,
    "sha384": hashes.SHA384,
    "sha512": hashes.SHA512,
}


class _TimeStampResp(core.Sequence):
    """RFC 3161 section 2.4.2: a refusal carries a status and no token; asn1crypto's own
    TimeStampResp makes the token mandatory and cannot read one."""

    _fields = [
        ("status", tsp.PKIStatusInfo),
        ("time_stamp_token", cms.ContentInfo, {"optional": True}),
    ]


class TimestampError(ValueError):
    """The TSA refused, or its answer is malformed, not for our request, or not validly signed."""


@dataclass(frozen=True)
class TokenInfo:
    gen_time: datetime
    serial_number: int
    policy: str
    imprint_sha256: str
    tsa_certificate_sha256: str


def new_nonce() -> int:
    return secrets.randbits(63)


def build_request(data: bytes, *, nonce: int) -> bytes:
    """A DER TimeStampReq for SHA-256(data), asking for the TSA's certificate in the token."""
    return tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {
                "hash_algorithm": {"algorithm": "sha256"},
                "hashed_message": hashlib.sha256(data).digest(),
            },
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()


def parse_response(der: bytes, *, data: bytes, nonce: int) -> bytes:
    """The token (DER ContentInfo) of a TSA's answer to :func:`build_request`; raises
    :class:`TimestampError` unless the answer grants a validly signed token over exactly
    ``data`` with our nonce."""
    try:
        response = _TimeStampResp.load(der)
        status = response["status"]["status"].native
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"not a TimeStampResp: {error}") from error
    if status not in ("granted", "granted_with_mods"):
        text = response["status"]["status_string"].native or []
        raise TimestampError(f"the TSA refused: {status} {' '.join(text)}".strip())
    token = response["time_stamp_token"]
    if token.native is None:
        raise TimestampError("the TSA granted but sent no token")
    token_der = token.dump()
    check_token(token_der, data=data)
    if _tst_info(token_der)["nonce"].native != nonce:
        raise TimestampError("the token answers another request (nonce differs)")
    return token_der


def check_token(token_der: bytes, *, data: bytes, pinned_certificate_sha256: str = "") -> TokenInfo:
    """Check a token with nothing but itself: it covers SHA-256(data), its CMS signature is
    valid under the certificate it carries, and (when pinned) that certificate is the TSA's."""
    tst = _tst_info(token_der)
    imprint = tst["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native != "sha256":
        raise TimestampError("the token's imprint is not SHA-256")
    if imprint["hashed_message"].native != hashlib.sha256(data).digest():
        raise TimestampError("the token covers other data (imprint differs)")
    certificate = _verify_signature(token_der)
    fingerprint = certificate.fingerprint(hashes.SHA256()).hex()
    if pinned_certificate_sha256 and fingerprint != pinned_certificate_sha256.lower():
        raise TimestampError("the token is signed by another TSA certificate than the pinned one")
    return TokenInfo(
        gen_time=tst["gen_time"].native,
        serial_number=tst["serial_number"].native,
        policy=tst["policy"].dotted,
        imprint_sha256=imprint["hashed_message"].native.hex(),
        tsa_certificate_sha256=fingerprint,
    )


def _signed_data(token_der: bytes) -> cms.SignedData:
    try:
        content = cms.ContentInfo.load(token_der)
        if content["content_type"].native != "signed_data":
            raise TimestampError("the token is not CMS SignedData")
        signed = content["content"]
        signed.native  # noqa: B018 - parses the whole structure now, so errors surface here
    except (ValueError, TypeError, KeyError) as error:
        raise TimestampError(f"malformed token: {error}") from error
    return signed


def _tst_info(token_der: bytes) -> tsp.TSTInfo:
    encapsulated = _signed_data(token_der)["encap_content_info"]
    if encapsulated["content_type"].native != "tst_info":
        raise TimestampError("the token does not hold a TSTInfo")
    return encapsulated["content"].parsed


def _verify_signature(token_der: bytes) -> x509.Certificate:
    """RFC 5652 section 5.4: the message-digest attribute is the digest of the TSTInfo, and the
    signature covers the DER of the signed attributes (as a SET OF)."""
    signed = _signed_data(token_der)
    infos = signed["signer_infos"]
    if len(infos) != 1:
        raise TimestampError("the token must have exactly one signer")
    signer = infos[0]
    certificate = _signer_certificate(signed, signer)
    digest_name = signer["digest_algorithm"]["algorithm"].native
    if digest_name not in _HASHES:
        raise TimestampError(f"unsupported digest {digest_name}")
    content = signed["encap_content_info"]["content"].contents
    attributes = {attr["type"].native: attr["values"][0] for attr in signer["signed_attrs"]}
    if attributes.get("content_type") is None or attributes["content_type"].native != "tst_info":
        raise TimestampError("the signed attributes do not name a TSTInfo")
    expected = hashlib.new(digest_name, content).digest()
    if attributes.get("message_digest") is None or attributes["message_digest"].native != expected:
        raise TimestampError("the TSTInfo was changed after signing (message digest differs)")
    signed_bytes = signer["signed_attrs"].untag().dump(force=True)
    _check(certificate.public_key(), signer, bytes(signer["signature"].native), signed_bytes)
    return certificate


def _signer_certificate(signed: cms.SignedData, signer: cms.SignerInfo) -> x509.Certificate:
    sid = signer["sid"]
    for choice in signed["certificates"] or []:
        if choice.name != "certificate":
            continue
        candidate = choice.chosen
        if sid.name == "issuer_and_serial_number":
            wanted = sid.chosen
            if (
                candidate.serial_number == wanted["serial_number"].native
                and candidate.issuer == wanted["issuer"]
            ):
                return x509.load_der_x509_certificate(candidate.dump())
        elif candidate.key_identifier == sid.chosen.native:
            return x509.load_der_x509_certificate(candidate.dump())
    raise TimestampError("the token does not carry its signer's certificate")


def _check(public_key, signer: cms.SignerInfo, signature: bytes, signed_bytes: bytes) -> None:
    algorithm: algos.SignedDigestAlgorithm = signer["signature_algorithm"]
    # The caller refused any digest not in _HASHES before calling.
    digest = _HASHES[signer["digest_algorithm"]["algorithm"].native]
    try:
        if isinstance(public_key, rsa.RSAPublicKey):
            if algorithm.signature_algo == "rsassa_pss":
                params = algorithm["parameters"]
                pss = padding.PSS(
                    mgf=padding.MGF1(digest()), salt_length=params["salt_length"].native
                )
                public_key.verify(signature, signed_bytes, pss, digest())
            else:
                public_key.verify(signature, signed_bytes, padding.PKCS1v15(), digest())
        elif isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, signed_bytes, ec.ECDSA(digest()))
        elif isinstance(public_key, ed25519.Ed25519PublicKey):
            public_key.verify(signature, signed_bytes)
        else:
            raise TimestampError(f"unsupported TSA key type {type(public_key).__name__}")
    except InvalidSignature as error:
        raise TimestampError("the token's signature is not valid") from error
