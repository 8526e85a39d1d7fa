#!/usr/bin/env bash
# Makes an independent QTSP root and a TPP's QWAC and QSealC with the openssl command line, the
# QCStatements extension written as ASN.1 in openssl's config syntax (ETSI TS 119 495).
# Used by tests to check that certificates from another producer are read and accepted.
#
#   make-certs.sh OUT_DIR [ORG_ID]
# writes ca.pem ca.key qwac.pem qwac.key qseal.pem qseal.key (keys PKCS#8).
set -euo pipefail
out=$1
org=${2:-PSDFR-ACPR-98765}
mkdir -p "$out"
cd "$out"

cat > openssl.cnf <<CNF
[req]
distinguished_name = dn
[dn]

[ca_ext]
basicConstraints = critical, CA:TRUE
keyUsage = critical, keyCertSign, cRLSign
subjectKeyIdentifier = hash

[qwac_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = clientAuth, serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qcs_web

[qseal_ext]
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, nonRepudiation
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid
1.3.6.1.5.5.7.1.3 = ASN1:SEQUENCE:qcs_seal

[qcs_web]
compliance = SEQUENCE:qc_compliance
type = SEQUENCE:qc_type_web
psd2 = SEQUENCE:psd2_statement

[qcs_seal]
compliance = SEQUENCE:qc_compliance
type = SEQUENCE:qc_type_seal
psd2 = SEQUENCE:psd2_statement_seal

[qc_compliance]
id = OID:0.4.0.1862.1.1

[qc_type_web]
id = OID:0.4.0.1862.1.6
types = SEQUENCE:types_web
[types_web]
web = OID:0.4.0.1862.1.6.3

[qc_type_seal]
id = OID:0.4.0.1862.1.6
types = SEQUENCE:types_seal
[types_seal]
seal = OID:0.4.0.1862.1.6.2

[psd2_statement]
id = OID:0.4.0.19495.2
info = SEQUENCE:psd2_info
[psd2_info]
roles = SEQUENCE:roles
nca_name = UTF8:Autorite de Controle Prudentiel et de Resolution
nca_id = UTF8:FR-ACPR
[roles]
ai = SEQUENCE:role_ai
ic = SEQUENCE:role_ic

[psd2_statement_seal]
id = OID:0.4.0.19495.2
info = SEQUENCE:psd2_info_seal
[psd2_info_seal]
roles = SEQUENCE:roles_seal
nca_name = UTF8:Autorite de Controle Prudentiel et de Resolution
nca_id = UTF8:FR-ACPR
[roles_seal]
ai = SEQUENCE:role_ai
ic = SEQUENCE:role_ic
unknown = SEQUENCE:role_unknown

[role_ai]
oid = OID:0.4.0.19495.1.3
name = UTF8:PSP_AI
[role_ic]
oid = OID:0.4.0.19495.1.4
name = UTF8:PSP_IC
[role_unknown]
oid = OID:0.4.0.19495.1.9
name = UTF8:PSP_XX
CNF

openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 3650 \
  -subj "/C=BE/O=Independent QTSP/CN=Independent QTSP Root" -config openssl.cnf -extensions ca_ext 2>/dev/null

for kind in qwac qseal; do
  openssl req -new -newkey rsa:2048 -nodes -keyout "$kind.key" -out "$kind.csr" \
    -subj "/C=FR/O=Open TPP/CN=Open TPP/organizationIdentifier=$org" -config openssl.cnf 2>/dev/null
  openssl x509 -req -in "$kind.csr" -CA ca.pem -CAkey ca.key -CAcreateserial -out "$kind.pem" -days 365 \
    -extfile openssl.cnf -extensions "${kind}_ext" 2>/dev/null
  rm -f "$kind.csr"
done
rm -f ca.srl
