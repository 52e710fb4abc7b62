#!/usr/bin/env python3
"""Verify a Signpost directory result without trusting the aggregator: an example for
integrators, in Python with the standard library and `cryptography`.

    python3 verify_group.py https://directory.example/v1/groups/<node did>/<listing id>
    python3 verify_group.py saved-provenance.json

Walks the organisation's node documents from the id pinned in the result (version 1 must be
signed by that id's key; each later version by a threshold of the previous version's root
keys), verifies the snapshot and the listing under the signing keys the current document
names, checks the snapshot's manifest names this listing, and that the facts shown are the
ones signed. Prints each check; exits 1 if any fails.
"""
import base64
import hashlib
import json
import sys
import urllib.request

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

B58 = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
NODE = "application/vnd.signpost.node.v1+json"
SNAPSHOT = "application/vnd.signpost.snapshot.v1+json"
LISTING = "application/vnd.signpost.listing.v1+json"


def did_key(did):
    """The 32-byte Ed25519 key of a did:key (multibase base58btc, multicodec 0xed01)."""
    if len(did) > 96 or not did.startswith("did:key:z"):
        raise ValueError(f"not an Ed25519 did:key: {did[:40]}")
    n = 0
    for ch in did[len("did:key:z"):]:
        n = n * 58 + B58.index(ch)
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    if raw[:2] != b"\xed\x01" or len(raw) != 34:
        raise ValueError("not an Ed25519 did:key")
    return raw[2:]


def b64(s):
    s = s.replace("-", "+").replace("_", "/")
    return base64.b64decode(s + "=" * (-len(s) % 4))


def pae(payload_type, body):
    t = payload_type.encode()
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)


def verify(envelope, payload_type, keys, threshold=1):
    """The payload, when at least `threshold` of `keys` signed it (DSSE v1, Ed25519)."""
    if envelope["payloadType"] != payload_type:
        raise ValueError(f"payload type {envelope['payloadType']}, expected {payload_type}")
    body = b64(envelope["payload"])
    message = pae(payload_type, body)
    signed_by = set()
    for sig in envelope["signatures"]:
        for key in keys:
            try:
                Ed25519PublicKey.from_public_bytes(key).verify(b64(sig["sig"]), message)
                signed_by.add(key)
            except InvalidSignature:
                pass
    if len(signed_by) < threshold:
        raise ValueError("no valid signature by the expected keys")
    return json.loads(body), hashlib.sha256(message).hexdigest()


def main(target):
    if target.startswith(("http://", "https://")):
        with urllib.request.urlopen(target, timeout=10) as resp:
            prov = json.load(resp)
    else:
        with open(target) as f:
            prov = json.load(f)
    ok = True

    def check(name, fn):
        nonlocal ok
        try:
            print(f"ok    {name}: {fn()}")
        except (ValueError, KeyError, StopIteration) as e:
            ok = False
            print(f"FAIL  {name}: {e}")

    pinned = prov["group"]["node"]
    state = {}

    def chain():
        keys, threshold, doc = [did_key(pinned)], 1, None
        for n, env in enumerate(prov["node_documents"], start=1):
            doc, _ = verify(env, NODE, keys, threshold)
            own = [did_key(k) for k in doc["root_keys"]]
            verify(env, NODE, own, doc["threshold"])
            if doc["version"] != n or doc["id"] != pinned:
                raise ValueError(f"version {doc['version']} is out of place")
            keys, threshold = own, doc["threshold"]
        state["signing"] = [did_key(k) for k in doc["signing_keys"]]
        return f"{len(prov['node_documents'])} version(s) from {pinned}: {doc['name']}"

    def snapshot():
        state["snapshot"], _ = verify(prov["snapshot"], SNAPSHOT, state["signing"])
        if state["snapshot"]["node"] != pinned:
            raise ValueError("the snapshot is about another node")
        return f"seq {state['snapshot']['seq']}"

    def listing():
        state["listing"], state["digest"] = verify(prov["listing"], LISTING, state["signing"])
        return f"{state['listing']['id']} version {state['listing']['version']}"

    def manifest():
        entry = next(e for e in state["snapshot"]["listings"] if e["id"] == state["listing"]["id"])
        if entry["sha256"] != state["digest"] or entry["version"] != state["listing"]["version"]:
            raise ValueError("the snapshot names another version")
        return "named by the snapshot with this digest"

    def shown():
        if prov["group"]["listing"] != state["listing"]:
            raise ValueError("the facts shown are not the ones signed")
        return state["listing"]["group"]["name"]

    for name, fn in [("node document chain", chain), ("snapshot signature", snapshot),
                     ("listing signature", listing), ("listing in the snapshot", manifest),
                     ("the listing shown is the one signed", shown)]:
        check(name, fn)
        if not ok:
            break
    print("verified" if ok else "NOT verified")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
