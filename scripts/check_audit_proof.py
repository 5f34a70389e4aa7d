#!/usr/bin/env python3
"""Check a Custos audit-log Merkle proof against signed tree heads, with nothing but Python.

An auditor who holds a signed tree head of a Custos vault (`custos audit head`) can check,
without the vault and without trusting its server or this vault's software:

  inclusion:    python3 check_audit_proof.py --proof inclusion.json --head head.json
                "this entry, as shown, is entry N of the log the head signs"
  consistency:  python3 check_audit_proof.py --proof consistency.json \
                    --old-head old-head.json --head head.json
                "the log of the newer head extends the log of the older one, unchanged"

The trees are RFC 9162's (Certificate Transparency v2, section 2.1); the formats are defined in
docs/audit.md ("Merkle proofs: how an outside auditor checks them") and src/audit/proofs.h.

Only the standard library is used (hashlib, json, struct, argparse, base64). It checks the
HASHES: the entry's canonical encoding, its leaf hash, and the path up to the head's root
(RFC 9162 2.1.3.2 and 2.1.4.2). It does NOT check the heads' SIGNATURES: Ed25519 (and SM2)
are not in Python's standard library. Check those with `custos audit check-proof` or with
OpenSSL: --signature-files DIR writes each head's signed message, its signature and (Ed25519)
the public key as PEM, and prints the openssl command that verifies them. Until a signature is
checked against the vault's public key you obtained on your own, a head proves nothing.

Exit status: 0 the proof checks; 1 it does not (tampering, or a forged proof); 2 the files are
malformed or do not belong together.
"""

import argparse
import base64
import hashlib
import json
import os
import struct
import sys

HEAD_FORMAT = "custos-tree-head/1"
INCLUSION_FORMAT = "custos-inclusion-proof/1"
CONSISTENCY_FORMAT = "custos-consistency-proof/1"
SUITES = {"aes256gcm": (1, "sha256"), "sm4gcm": (2, "sm3")}
# DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410): the 32-byte key follows.
ED25519_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


class Malformed(Exception):
    """The input files are not what they claim, or do not go together (exit 2)."""


class Refused(Exception):
    """The proof does not check (exit 1)."""


def hasher(name):
    """sha256, or sm3 where this Python's OpenSSL has it."""
    try:
        hashlib.new(name)
    except ValueError:
        raise Malformed(f"this Python's hashlib has no {name}: check with custos audit check-proof")
    return lambda data: hashlib.new(name, data).digest()


def load(path, what):
    try:
        with open(path, "rb") as f:
            doc = json.loads(f.read().decode("utf-8"))
    except (OSError, ValueError) as e:
        raise Malformed(f"{what} {path}: {e}")
    if not isinstance(doc, dict):
        raise Malformed(f"{what} {path}: not a JSON object")
    return doc


def member(doc, name, kind, what):
    if name not in doc:
        raise Malformed(f'{what} member "{name}": missing')
    value = doc[name]
    if kind is int and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise Malformed(f'{what} member "{name}": must be a non-negative integer')
    if kind is str and not isinstance(value, str):
        raise Malformed(f'{what} member "{name}": must be a string')
    if kind in (list, dict) and not isinstance(value, kind):
        raise Malformed(f'{what} member "{name}": must be a JSON {"array" if kind is list else "object"}')
    if kind is bytes:
        try:
            return bytes.fromhex(member(doc, name, str, what))
        except ValueError:
            raise Malformed(f'{what} member "{name}": must be hex')
    return value


def suite_of(doc, fmt, what):
    if member(doc, "format", str, what) != fmt:
        raise Malformed(f'{what} member "format": must be "{fmt}"')
    suite = member(doc, "suite", str, what)
    if suite not in SUITES:
        raise Malformed(f'{what} member "suite": must be aes256gcm or sm4gcm')
    if member(doc, "hash", str, what) != SUITES[suite][1]:
        raise Malformed(f'{what} member "hash": must be "{SUITES[suite][1]}"')
    return suite


def read_head(path):
    what = f"tree head {path}"
    doc = load(path, "tree head")
    head = {
        "suite": suite_of(doc, HEAD_FORMAT, what),
        "tree_size": member(doc, "tree_size", int, what),
        "timestamp_ms": member(doc, "timestamp_ms", int, what),
        "root_hash": member(doc, "root_hash", bytes, what),
        "public_key": member(doc, "public_key", bytes, what),
        "signature": member(doc, "signature", bytes, what),
    }
    if len(head["root_hash"]) != 32:
        raise Malformed(f'{what} member "root_hash": must be 32 bytes')
    return head


def read_path(doc, what):
    path = member(doc, "path", list, what)
    out = []
    for item in path:
        try:
            h = bytes.fromhex(item) if isinstance(item, str) else b""
        except ValueError:
            h = b""
        if len(h) != 32:
            raise Malformed(f'{what} member "path": every hash must be 32 bytes of hex')
        out.append(h)
    return out


# --- the byte encodings (src/audit/canonical.h) ---

def i64(v):
    return struct.pack(">q", v)


def field(b):
    return struct.pack(">I", len(b)) + b


def canonical_entry(entry):
    """custos/audit/v1: the entry's leaf input, rebuilt from the entry as shown."""
    what = "inclusion proof entry"
    out = b"custos/audit/v1" + i64(member(entry, "seq", int, what))
    out += i64(member(entry, "ts_ms", int, what))
    for name in ("actor", "action", "target", "purpose", "channel", "decision", "reason"):
        out += field(member(entry, name, str, what).encode("utf-8"))
    fields = member(entry, "fields", list, what)
    if not all(isinstance(f, str) for f in fields):
        raise Malformed(f'{what} member "fields": must be an array of names')
    out += field(",".join(fields).encode("utf-8"))
    out += field(member(entry, "request_id", str, what).encode("utf-8"))
    out += field(member(entry, "prev_hash", bytes, what))
    return out


def tree_head_message(head):
    """custos/tree-head/v1: what a head's signature covers."""
    return (b"custos/tree-head/v1" + bytes([SUITES[head["suite"]][0]]) + i64(head["tree_size"])
            + i64(head["timestamp_ms"]) + field(head["root_hash"]))


# --- RFC 9162 2.1.3.2 and 2.1.4.2 ---

def verify_inclusion(h, index, size, leaf_hash, path, root):
    if index >= size:
        raise Refused(f"leaf {index} is not in a tree of {size} leaves")
    fn, sn, r = index, size - 1, leaf_hash
    for p in path:
        if sn == 0:
            raise Refused("the path is longer than the tree is deep")
        if fn & 1 or fn == sn:
            r = h(b"\x01" + p + r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = h(b"\x01" + r + p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Refused("the path is shorter than the tree is deep")
    if r != root:
        raise Refused("the path does not lead to the head's root")


def verify_consistency(h, first, second, first_root, second_root, proof):
    if first > second:
        raise Refused("the first tree is larger than the second")
    if first == 0 or first == second:
        if proof:
            raise Refused("the proof must be empty for these sizes")
        if first == 0 and first_root != h(b""):
            raise Refused("the first root is not the empty tree's")
        if first == second and first_root != second_root:
            raise Refused("two trees of the same size with different roots")
        return
    if not proof:
        raise Refused("the proof is empty")
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            raise Refused("the proof is longer than the trees need")
        if fn & 1 or fn == sn:
            fr = h(b"\x01" + c + fr)
            sr = h(b"\x01" + c + sr)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            sr = h(b"\x01" + sr + c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise Refused("the proof is shorter than the trees need")
    if fr != first_root:
        raise Refused("the proof does not lead to the first head's root")
    if sr != second_root:
        raise Refused("the proof does not lead to the second head's root")


# --- the checks ---

def check_inclusion(doc, head):
    what = "inclusion proof"
    suite = suite_of(doc, INCLUSION_FORMAT, what)
    seq = member(doc, "seq", int, what)
    size = member(doc, "tree_size", int, what)
    if suite != head["suite"]:
        raise Malformed("the proof and the head are of different suites")
    if size != head["tree_size"]:
        raise Malformed(f"the proof is for a tree of {size} entries, the head for "
                        f"{head['tree_size']}: ask for the proof with --size {head['tree_size']}")
    if seq < 1 or member(doc, "leaf_index", int, what) != seq - 1:
        raise Malformed(f'{what} member "leaf_index": must be seq - 1')
    entry = member(doc, "entry", dict, what)
    if member(entry, "seq", int, "inclusion proof entry") != seq:
        raise Malformed(f'{what} member "entry": its seq is not the proof\'s')
    h = hasher(SUITES[suite][1])
    leaf_input = member(doc, "leaf_input", bytes, what)
    if canonical_entry(entry) != leaf_input:
        raise Refused(f"entry {seq} as shown does not encode to the proof's leaf_input")
    leaf_hash = member(doc, "leaf_hash", bytes, what)
    if h(b"\x00" + leaf_input) != leaf_hash:
        raise Refused(f"leaf_hash of entry {seq} is not the hash of its leaf_input")
    try:
        verify_inclusion(h, seq - 1, size, leaf_hash, read_path(doc, what), head["root_hash"])
    except Refused as e:
        raise Refused(f"entry {seq} is not in the signed tree of {size} entries as shown ({e})")
    return f"inclusion proof OK: entry {seq} is in the tree of {size} entries the head signs"


def check_consistency(doc, old_head, head):
    what = "consistency proof"
    suite = suite_of(doc, CONSISTENCY_FORMAT, what)
    first = member(doc, "first_size", int, what)
    second = member(doc, "second_size", int, what)
    if suite != head["suite"] or suite != old_head["suite"]:
        raise Malformed("the proof and the heads are of different suites")
    if first != old_head["tree_size"] or second != head["tree_size"]:
        raise Malformed(f"the proof is from {first} to {second} entries, the heads are of "
                        f"{old_head['tree_size']} and {head['tree_size']}")
    h = hasher(SUITES[suite][1])
    try:
        verify_consistency(h, first, second, old_head["root_hash"], head["root_hash"],
                           read_path(doc, what))
    except Refused as e:
        raise Refused(f"the tree of {first} entries is not a prefix of the tree of {second} "
                      f"entries: the log was rewritten or cut between the heads, or a proof or "
                      f"head is forged ({e})")
    return (f"consistency proof OK: the tree of {first} entries is a prefix of the tree of "
            f"{second} entries")


def write_signature_files(directory, heads, public_key):
    """Each head's signed message and signature, the key as PEM, and the openssl commands."""
    os.makedirs(directory, exist_ok=True)
    commands = []
    pem_path = os.path.join(directory, "public_key.pem")
    ed25519 = all(h["suite"] == "aes256gcm" for _, h in heads)
    if ed25519:
        if len(public_key) != 32:
            raise Malformed("an Ed25519 public key is 32 bytes")
        b64 = base64.b64encode(ED25519_SPKI_PREFIX + public_key).decode("ascii")
        with open(pem_path, "w") as f:
            f.write("-----BEGIN PUBLIC KEY-----\n" + b64 + "\n-----END PUBLIC KEY-----\n")
    for name, head in heads:
        msg = os.path.join(directory, name + ".msg")
        sig = os.path.join(directory, name + ".sig")
        with open(msg, "wb") as f:
            f.write(tree_head_message(head))
        with open(sig, "wb") as f:
            f.write(head["signature"])
        if ed25519:
            commands.append(f"openssl pkeyutl -verify -pubin -inkey {pem_path} -rawin "
                            f"-in {msg} -sigfile {sig}")
    if not ed25519:
        commands.append("# SM2 signatures: check them with `custos audit check-proof`")
    return commands


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--proof", required=True, help="the proof (custos audit prove / consistency)")
    ap.add_argument("--head", required=True, help="the signed head of the proof's (second) size")
    ap.add_argument("--old-head", help="for a consistency proof: the head of the first size")
    ap.add_argument("--public-key", help="file with the vault's audit public key in hex; the "
                    "heads must name it (default: the key the head names)")
    ap.add_argument("--signature-files", metavar="DIR", help="write the heads' signed messages, "
                    "signatures and PEM key to DIR and print the openssl commands to check them")
    args = ap.parse_args(argv)
    try:
        doc = load(args.proof, "proof")
        head = read_head(args.head)
        heads = [("head", head)]
        fmt = doc.get("format")
        if fmt == INCLUSION_FORMAT:
            if args.old_head:
                raise Malformed("--old-head: only for a consistency proof")
            verdict = check_inclusion(doc, head)
        elif fmt == CONSISTENCY_FORMAT:
            if not args.old_head:
                raise Malformed("--old-head: a consistency proof needs the head of the first size")
            old_head = read_head(args.old_head)
            heads.insert(0, ("old-head", old_head))
            verdict = check_consistency(doc, old_head, head)
        else:
            raise Malformed(f"--proof {args.proof}: not a Custos proof (format {INCLUSION_FORMAT}"
                            f" or {CONSISTENCY_FORMAT})")
        key = head["public_key"]
        if args.public_key:
            try:
                with open(args.public_key) as f:
                    key = bytes.fromhex(f.read().strip())
            except (OSError, ValueError) as e:
                raise Malformed(f"--public-key {args.public_key}: {e}")
        for name, h in heads:
            if h["public_key"] != key:
                raise Refused(f"the {name} names another public key than the one given: it was "
                              f"not signed by this vault")
        print(verdict)
        print("signatures NOT checked (not in Python's standard library): run `custos audit "
              "check-proof` with --public-key, or openssl (--signature-files DIR)")
        if args.signature_files:
            for command in write_signature_files(args.signature_files, heads, key):
                print(command)
        return 0
    except Malformed as e:
        print(f"check_audit_proof: {e}", file=sys.stderr)
        return 2
    except Refused as e:
        print(f"check_audit_proof: FAILED: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
