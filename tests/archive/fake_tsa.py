"""A local RFC 3161 time-stamping authority for tests (the real ones are outside services).

It answers TimeStampReq POSTs with tokens signed by its own EC P-256 key and self-signed
certificate, in the structure real TSAs send (CMS SignedData over a TSTInfo, with the
content-type, message-digest and signing-certificate-v2 attributes), so that ``openssl ts
-verify`` accepts them too. ``mode`` makes it misbehave the ways a TSA can.

The tokens are made with asn1crypto: rfc3161-client, which could replace it for checking, only
builds requests and reads answers, and cannot issue a token. pytest-httpserver serves them.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from asn1crypto import algos, cms, tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response


def _certificate(key: ec.EllipticCurvePrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .sign(key, hashes.SHA256())
    )


class FakeTsa:
    """``mode``: "ok", "rejection", "wrong_nonce", "wrong_imprint", "tampered", "http_500",
    "garbage"."""

    def __init__(self, name: str = "Fake TSA for tests") -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.certificate = _certificate(self.key, name)
        self.certificate_der = self.certificate.public_bytes(serialization.Encoding.DER)
        self.fingerprint = hashlib.sha256(self.certificate_der).hexdigest()
        self.mode = "ok"
        self.requests = 0
        self._serial = 0
        self._server: HTTPServer | None = None

    # --- the token ---------------------------------------------------------------------------

    def answer(self, request_der: bytes) -> bytes:
        request = tsp.TimeStampReq.load(request_der)
        if self.mode == "rejection":
            # SEQUENCE { PKIStatusInfo } with no token (asn1crypto's TimeStampResp insists on
            # one, so the outer SEQUENCE is written by hand; short form: under 128 bytes).
            status = tsp.PKIStatusInfo(
                {"status": "rejection", "status_string": ["policy not accepted"]}
            ).dump()
            return b"\x30" + bytes([len(status)]) + status
        self._serial += 1
        imprint = request["message_imprint"]
        nonce = request["nonce"].native
        if self.mode == "wrong_nonce":
            nonce += 1
        hashed = imprint["hashed_message"].native
        if self.mode == "wrong_imprint":
            hashed = hashlib.sha256(b"something else").digest()
        tst_info = tsp.TSTInfo(
            {
                "version": "v1",
                "policy": "1.3.6.1.4.1.55555.1.1",
                "message_imprint": {
                    "hash_algorithm": {"algorithm": "sha256"},
                    "hashed_message": hashed,
                },
                "serial_number": self._serial,
                "gen_time": datetime.now(UTC).replace(microsecond=0),
                "nonce": nonce,
            }
        )
        return tsp.TimeStampResp(
            {"status": {"status": "granted"}, "time_stamp_token": self._token(tst_info)}
        ).dump()

    def _token(self, tst_info: tsp.TSTInfo) -> cms.ContentInfo:
        cert = asn1_x509.Certificate.load(self.certificate_der)
        content = tst_info.dump()
        attributes = cms.CMSAttributes(
            [
                {"type": "content_type", "values": ["tst_info"]},
                {"type": "message_digest", "values": [hashlib.sha256(content).digest()]},
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "hash_algorithm": {"algorithm": "sha256"},
                                    "cert_hash": hashlib.sha256(self.certificate_der).digest(),
                                }
                            ]
                        }
                    ],
                },
            ]
        )
        signature = self.key.sign(attributes.dump(), ec.ECDSA(hashes.SHA256()))
        if self.mode == "tampered":
            # The TSTInfo changed after signing: another serial number, same signature.
            changed = tsp.TSTInfo.load(content)
            changed["serial_number"] = changed["serial_number"].native + 1000
            tst_info = changed
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    "issuer_and_serial_number",
                    {"issuer": cert.issuer, "serial_number": cert.serial_number},
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": attributes,
                "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
                "signature": signature,
            }
        )
        signed_data = cms.SignedData(
            {
                "version": "v3",
                "digest_algorithms": [algos.DigestAlgorithm({"algorithm": "sha256"})],
                "encap_content_info": {"content_type": "tst_info", "content": tst_info},
                "certificates": [cert],
                "signer_infos": [signer],
            }
        )
        return cms.ContentInfo({"content_type": "signed_data", "content": signed_data})

    # --- the server --------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server is not None
        return self._server.url_for("/tsa")

    def start(self) -> FakeTsa:
        self._server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
        self._server.expect_request("/tsa", method="POST").respond_with_handler(self._serve)
        self._server.start()
        return self

    def stop(self) -> None:
        if self._server is not None and self._server.is_running():
            self._server.stop()

    def _serve(self, request: Request) -> Response:
        self.requests += 1
        if self.mode == "http_500":
            return Response(b"", status=500)
        if self.mode == "garbage":
            reply = b"<html>not a time-stamp</html>"
        else:
            reply = self.answer(request.get_data())
        return Response(reply, status=200, content_type="application/timestamp-reply")

    def certificate_pem(self) -> bytes:
        return self.certificate.public_bytes(serialization.Encoding.PEM)
