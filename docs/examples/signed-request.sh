#!/usr/bin/env bash
# A STET request signed by hand: openssl computes the Digest and the signature, curl sends it over
# mutual TLS. Run it from the directory where `stetgate sandbox` keeps stetgate-data/, after
#   stetgate certs issue --org-id PSDFR-ACPR-12345 --roles PSP_AI,PSP_IC --out tpp
# and registering tpp/ with the bank (stet-tpp register ...). See docs/tpp-guide.md.
#
#   BANK=https://www.17515.sandbox.localhost:8443 CACERT=stetgate-data/pki/ca.pem CERTS=tpp \
#     docs/examples/signed-request.sh
set -euo pipefail
bank=${BANK:-https://www.17515.sandbox.localhost:8443}
cacert=${CACERT:-stetgate-data/pki/ca.pem}
certs=${CERTS:-tpp}

# keyId: a URL ending in _<SHA-256 of the QSealC's DER, lower-case hex>.
fingerprint=$(openssl x509 -in "$certs/qseal.pem" -outform DER | openssl dgst -sha256 -r | cut -d' ' -f1)
key_id="https://tpp.example/certs/qseal_${fingerprint}"

sign() { # the signing string on stdin -> base64 rsa-sha256 signature with the QSealC key
  openssl dgst -sha256 -sign "$certs/qseal.key" | openssl base64 -A
}

# 1. GET /accounts with the PSU connected: (request-target), x-request-id and psu-ip-address signed.
path=/stet/psd2/v1.4.2/accounts
request_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
psu_ip=192.0.2.10
signature=$(printf '(request-target): get %s\nx-request-id: %s\npsu-ip-address: %s' "$path" "$request_id" "$psu_ip" | sign)
curl -sS --cacert "$cacert" --cert "$certs/qwac.pem" --key "$certs/qwac.key" \
  -H "X-Request-ID: $request_id" -H "PSU-IP-Address: $psu_ip" \
  -H "Signature: keyId=\"$key_id\",algorithm=\"rsa-sha256\",headers=\"(request-target) x-request-id psu-ip-address\",signature=\"$signature\"" \
  "$bank$path"
echo

# 2. PUT /consents with a body: its Digest is signed too.
path=/stet/psd2/v1.4.2/consents
request_id=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
body='{"balances":[],"transactions":[],"psuIdentity":false,"trustedBeneficiaries":false}'
digest="SHA-256=$(printf '%s' "$body" | openssl dgst -sha256 -binary | openssl base64 -A)"
signature=$(printf '(request-target): put %s\nx-request-id: %s\ndigest: %s' "$path" "$request_id" "$digest" | sign)
curl -sS --cacert "$cacert" --cert "$certs/qwac.pem" --key "$certs/qwac.key" -X PUT \
  -H "X-Request-ID: $request_id" -H "Digest: $digest" -H "Content-Type: application/json" \
  -H "Signature: keyId=\"$key_id\",algorithm=\"rsa-sha256\",headers=\"(request-target) x-request-id digest\",signature=\"$signature\"" \
  --data "$body" "$bank$path"
echo
