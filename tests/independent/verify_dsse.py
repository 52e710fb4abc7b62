#!/usr/bin/env python3
"""An independent Signpost envelope verifier, written from the specs alone.

DSSE v1 (PAE), did:key (multicodec 0xed01, base58btc) and Ed25519 verification
(RFC 8032 section 5.1.7, with the reference arithmetic of section 6), in the Python
standard library. It shares no code with the Rust implementation.

usage: verify_dsse.py DID_KEY PAYLOAD_TYPE ENVELOPE.json [ENVELOPE.json ...]
       verify_dsse.py --stdin     (JSON lines: {"did":..., "type":..., "envelope": {...}})
Exit 0 when every envelope verifies; 1 otherwise, naming the ones that do not.
"""
import base64
import hashlib
import json
import sys

# --- Ed25519 (RFC 8032) ---------------------------------------------------------------
P = 2**255 - 19
Q = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(a, b):
    x = (a[1] - a[0]) * (b[1] - b[0]) % P
    y = (a[1] + a[0]) * (b[1] + b[0]) % P
    c = 2 * a[3] * b[3] * D % P
    d = 2 * a[2] * b[2] % P
    e, f, g, h = y - x, d - c, d + c, y + x
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    acc = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            acc = _add(acc, pt)
        pt = _add(pt, pt)
        s >>= 1
    return acc


def _equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 % P == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s):
    if len(s) != 32:
        return None
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
_GX = _recover_x(_GY, 0)
BASE = (_GX, _GY, 1, _GX * _GY % P)


def ed25519_verify(public, msg, sig):
    if len(sig) != 64:
        return False
    a = _decompress(public)
    r = _decompress(sig[:32])
    if a is None or r is None:
        return False
    s = int.from_bytes(sig[32:], "little")
    if s >= Q:
        return False
    h = int.from_bytes(hashlib.sha512(sig[:32] + public + msg).digest(), "little") % Q
    return _equal(_mul(s, BASE), _add(r, _mul(h, a)))


# --- did:key ----------------------------------------------------------------------------
B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"


def did_key_to_public(did):
    if not did.startswith("did:key:z"):
        raise ValueError("not a base58btc did:key")
    n = 0
    for ch in did[len("did:key:z"):]:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if raw[:2] != b"\xed\x01" or len(raw) != 34:
        raise ValueError("not an Ed25519 did:key")
    return raw[2:]


# --- DSSE -------------------------------------------------------------------------------
def b64(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4), validate=True)


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify_envelope(did, payload_type, env):
    if env.get("payloadType") != payload_type:
        return False
    public = did_key_to_public(did)
    body = b64(env["payload"])
    message = pae(payload_type, body)
    return any(ed25519_verify(public, message, b64(s["sig"])) for s in env.get("signatures", []))


def main(argv):
    failures = 0
    checked = 0
    if argv[1:2] == ["--stdin"]:
        items = [json.loads(line) for line in sys.stdin if line.strip()]
        jobs = [(i["did"], i["type"], i["envelope"], "line %d" % n) for n, i in enumerate(items, 1)]
    else:
        did, ptype = argv[1], argv[2]
        jobs = [(did, ptype, json.load(open(path)), path) for path in argv[3:]]
    for did, ptype, env, name in jobs:
        checked += 1
        if not verify_envelope(did, ptype, env):
            failures += 1
            print("NOT VERIFIED: %s" % name)
    print("independent verifier: %d envelopes, %d verified, %d refused" % (checked, checked - failures, failures))
    return 1 if failures or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
