"""How a TPP reaches a stetgate bank from Python: names under .localhost, and request signatures.

Shared by run.py (the set-up calls) and stet_hooks.py (every request schemathesis generates).

- `use_loopback_for_localhost()`: RFC 6761 says names under `.localhost` are the loopback; curl and
  browsers resolve them so, but glibc without systemd's resolver does not. Python asks glibc, so we
  answer `www.17515.sandbox.localhost` with 127.0.0.1 ourselves when the system cannot. The TLS name
  check still runs against the real host name.
- `StetSignature`: a `requests` auth that signs the prepared request right before it is sent, as
  STET Part I section 3.5 asks and stetgate checks (docs/tpp-guide.md, "Signing requests"): a
  `Digest: SHA-256=...` over the exact body bytes when there is a body, and a draft-cavage
  `Signature` made with the QSealC key by the `httpsig` package (the one the project's
  interoperability test uses, crates/stetgate/tests/interop/httpsig_sign.py), over
  `(request-target) x-request-id`, plus `digest` and every `psu-*` header sent.
"""

from __future__ import annotations

import base64
import hashlib
import socket

import requests
from httpsig import HeaderSigner

_system_getaddrinfo = socket.getaddrinfo


def _getaddrinfo(host, *args, **kwargs):
    name = host.decode() if isinstance(host, bytes) else host
    if isinstance(name, str) and (name == "localhost" or name.endswith(".localhost")):
        try:
            return _system_getaddrinfo(host, *args, **kwargs)
        except socket.gaierror:
            return _system_getaddrinfo("127.0.0.1", *args, **kwargs)
    return _system_getaddrinfo(host, *args, **kwargs)


def use_loopback_for_localhost() -> None:
    socket.getaddrinfo = _getaddrinfo


class StetSignature(requests.auth.AuthBase):
    """Adds Digest (when there is a body) and Signature to a prepared request."""

    def __init__(self, key_pem: str, key_id: str):
        self.key_pem = key_pem
        self.key_id = key_id

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body
        if isinstance(body, str):
            body = body.encode("utf-8")
        signed = ["(request-target)", "x-request-id"]
        # Whatever the caller put there is replaced: the harness owns Digest and Signature.
        request.headers.pop("Digest", None)
        request.headers.pop("Signature", None)
        if body:
            request.headers["Digest"] = "SHA-256=" + base64.b64encode(hashlib.sha256(body).digest()).decode()
            signed.append("digest")
        signed += sorted(name.lower() for name in request.headers if name.lower().startswith("psu-"))
        signer = HeaderSigner(
            key_id=self.key_id, secret=self.key_pem, algorithm="rsa-sha256", headers=signed, sign_header="signature"
        )
        value = signer.sign(dict(request.headers), method=request.method, path=request.path_url)["signature"]
        if value.startswith("Signature "):
            value = value[len("Signature ") :]
        request.headers["Signature"] = value
        return request
