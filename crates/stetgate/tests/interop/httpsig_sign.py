"""Signs a request with the `httpsig` package (an independent draft-cavage implementation).

Reads JSON on stdin: {"key_pem", "key_id", "method", "path", "headers": {name: value}, "signed": [names]}
and prints the value of the Signature header. Used by stetgate's interoperability test.
"""
import json
import sys

from httpsig import HeaderSigner

request = json.load(sys.stdin)
signer = HeaderSigner(
    key_id=request["key_id"],
    secret=request["key_pem"],
    algorithm="rsa-sha256",
    headers=request["signed"],
    sign_header="signature",
)
signed = signer.sign(request["headers"], method=request["method"], path=request["path"])
value = signed["signature"]
if value.startswith("Signature "):
    value = value[len("Signature "):]
print(value)
