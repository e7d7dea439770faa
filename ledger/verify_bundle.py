#!/usr/bin/env python3
"""Reference verifier for purser audit bundles, written from ledger/README.md (the spec) alone.

    python3 verify_bundle.py BUNDLE_DIR [--checkpoint FILE ...] [--key KEY_OR_FILE] [--json]

It follows spec §8.1 step by step, with Python 3.8+ and its standard library only: Ed25519 is verified
here in pure Python (RFC 8032 §5.1.7), and entries.jsonl is streamed line by line.

Checks: key.pub is a well-formed Ed25519 verifier key (with --key: the one you expect); the bundle's
checkpoint and each --checkpoint you held from before is signed by it for this ledger's origin; each
line of entries.jsonl has the version 1 envelope, seq equal to its line number, prev equal to the
leaf hash of the line before (the hash chain) and a time no earlier than the line before; line 0 is
the genesis entry naming exactly key.pub's key; the RFC 6962 Merkle root of the first N entries
equals the root of every checkpoint of size N; and there are exactly as many entries as the bundle's
checkpoint covers, and no fewer than any held checkpoint covers.

Does not check: who made the bundle (without --key, a bundle rebuilt with someone's new key passes;
without --checkpoint, so does one cut short or rewritten and signed again); what entries say (bodies
other than entry 0's are not parsed, `at` is not checked to be a real time, kinds are not checked
against spec §4.4); the SQLite ledger itself (use `purser verify`); inclusion or consistency proofs.

Exit codes: 0 intact; 3 a fault (the first is printed: kind, seq, detail); 64 bad arguments;
65 unreadable or malformed input (a key or a checkpoint); 66 a missing file.
"""
import argparse
import base64
import binascii
import hashlib
import json
import re
import sys
import unicodedata
from collections import namedtuple
from decimal import Decimal
from pathlib import Path

# ---- Ed25519 verification: RFC 8032 §5.1.7, after the reference code of RFC 8032 §6 ----

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def point_add(a, b):  # points in extended coordinates (X, Y, Z, T): x = X/Z, y = Y/Z, x*y = T/Z
    A, B = (a[1] - a[0]) * (b[1] - b[0]) % P, (a[1] + a[0]) * (b[1] + b[0]) % P
    C, DD = 2 * a[3] * b[3] * D % P, 2 * a[2] * b[2] % P
    E, F, G, H = B - A, DD - C, DD + C, B + A
    return (E * F % P, G * H % P, F * G % P, E * H % P)


def point_mul(s, point):
    result = (0, 1, 1, 0)  # the neutral element
    while s:
        if s & 1:
            result = point_add(result, point)
        point, s = point_add(point, point), s >> 1
    return result


def point_equal(a, b):
    return (a[0] * b[2] - b[0] * a[2]) % P == 0 and (a[1] * b[2] - b[1] * a[2]) % P == 0


def point_decompress(s):
    y = int.from_bytes(s, "little")
    sign, y = y >> 255, y & ((1 << 255) - 1)
    if len(s) != 32 or y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P or (x == 0 and sign):
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


BASE = point_decompress((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def ed25519_verify(public, message, signature):
    if len(public) != 32 or len(signature) != 64:
        return False
    A, R = point_decompress(public), point_decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if A is None or R is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public + message).digest(), "little") % L
    return point_equal(point_mul(s, BASE), point_add(R, point_mul(k, A)))


# ---- Inputs: files, keys, checkpoints (spec §2, §7) ----

class Failure(Exception):
    """An error, not a fault: the input cannot be checked. Its args are (exit code, message)."""


Fault = namedtuple("Fault", "seq kind detail")
Key = namedtuple("Key", "name id public text")  # text: the key's canonical string (§7.2)
WHITE_SPACE = "".join(map(chr, [*range(9, 14), 0x20, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
                                0x2028, 0x2029, 0x202F, 0x205F, 0x3000]))  # Unicode White_Space
BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")
BUNDLE = "an audit bundle holds entries.jsonl, checkpoint and key.pub"


def b64decode(text):
    """Canonical base64 (§2): decoding and encoding again must give the same text. None if invalid."""
    if len(text) % 4 or not BASE64.fullmatch(text):
        return None
    try:
        data = base64.b64decode(text, validate=True)
    except binascii.Error:
        return None
    return data if base64.b64encode(data).decode("ascii") == text else None


def same_text(a, b):
    """Names are compared as Unicode text (§7.4): canonically equivalent strings are equal."""
    return unicodedata.normalize("NFC", a) == unicodedata.normalize("NFC", b)


def read(path, what, strict=True):
    """A file's text: UTF-8, or with invalid bytes replaced when not `strict` (held checkpoints, §8.1)."""
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        raise Failure(66, f"{path} not found: {what}")
    except OSError as error:
        raise Failure(65, f"{path} cannot be read: {error}")
    try:
        return data.decode("utf-8", "strict" if strict else "replace")
    except UnicodeDecodeError:
        raise Failure(65, f"{path} is not UTF-8 text")


def parse_key(text):
    """A C2SP verifier key <name>+<8 hex key ID>+<base64(0x01 || 32-byte Ed25519 key)> (§7.2)."""
    parts = text.strip(WHITE_SPACE).split("+", 2)
    if len(parts) != 3 or not parts[0] or any(c in WHITE_SPACE + "+" for c in parts[0]):
        raise Failure(65, f"verifier key must be <name>+<8 hex key id>+<base64 key>, got {text[:80]!r}")
    name, key_id, encoded = parts
    raw = b64decode(encoded)
    if raw is None or len(raw) != 33 or raw[0] != 1:
        raise Failure(65, f"verifier key {name}: expected an Ed25519 key (0x01 and 32 bytes, in base64)")
    computed = hashlib.sha256(name.encode() + b"\n\x01" + raw[1:]).digest()[:4]
    if key_id != computed.hex():
        raise Failure(65, f"verifier key {name}: key id {key_id} does not match the key ({computed.hex()})")
    return Key(name, computed, raw[1:], f"{name}+{computed.hex()}+{base64.b64encode(raw).decode()}")


def open_checkpoint(text, source, key):
    """Opens a signed checkpoint (§7.4): (size, root, None if verified else why the signature is bad)."""
    def malformed(why):
        return Failure(65, f"{source} is not a signed checkpoint: {why}")
    cut = text.find("\n\n")
    if cut < 0:
        raise malformed("no blank line before the signatures")
    body = text[:cut + 1]
    lines = body.split("\n")[:-1]
    if len(lines) < 3:
        raise malformed("expected origin, tree size and root hash lines")
    origin, size, root = lines[0], lines[1], b64decode(lines[2])
    if not origin:
        raise malformed("empty origin line")
    if not re.fullmatch(r"[1-9][0-9]*", size) or int(size) >= 2**64:
        raise malformed(f"line 2 must be the tree size, a positive decimal number, got {size[:40]!r}")
    if root is None or len(root) != 32:
        raise malformed("line 3 must be a base64 SHA-256 root hash")
    if not same_text(origin, key.name):
        raise Failure(65, f"{source} is a checkpoint for origin {origin!r}, but this ledger's is {key.name!r}")
    signatures = [line for line in text[cut + 2:].split("\n") if line]
    if not signatures:
        raise malformed("no signature lines")
    for line in signatures:  # the first line by this key decides; later lines are not read
        fields = line.split(" ")
        if len(fields) != 3 or fields[0] != "\u2014":
            raise malformed("a signature line must be '\u2014 <name> <signature>'")
        raw = b64decode(fields[2])
        if not same_text(fields[1], key.name) or raw is None or len(raw) != 68 or raw[:4] != key.id:
            continue  # another key's signature
        if ed25519_verify(key.public, body.encode(), raw[4:]):
            return int(size), root, None
        return int(size), root, f"{source}: the signature by {key.name} does not verify"
    return int(size), root, f"{source}: no signature by key {key.name}+{key.id.hex()}"


# ---- Entries, the chain and the tree (spec §3.2, §4, §5, §8.1) ----

ENVELOPE = re.compile(rb'\{"at":"(.{24})","body":\{.*\},"kind":"([^"]+)","prev":"([0-9a-f]{64})",'
                      rb'"seq":(0|[1-9][0-9]{0,19}),"v":1\}', re.DOTALL)


def envelope(line):
    """(at, prev, seq) from the version 1 envelope (§4.2), or None."""
    match = ENVELOPE.fullmatch(line) if len(line) > 100 else None
    if match is None or int(match[4]) >= 2**64:
        return None
    return match[1], bytes.fromhex(match[3].decode()), int(match[4])


def leaf_hash(entry):
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left, right):
    return hashlib.sha256(b"\x01" + left + right).digest()


class Tree:
    """The right edge of the RFC 6962 Merkle tree (§5.2): roots of its complete subtrees, largest first."""

    def __init__(self):
        self.size, self.stack = 0, []

    def append(self, leaf):
        n = self.size
        while n & 1:
            leaf, n = node_hash(self.stack.pop(), leaf), n >> 1
        self.stack.append(leaf)
        self.size += 1

    def root(self):
        if not self.stack:
            return hashlib.sha256(b"").digest()
        root = self.stack[-1]
        for left in reversed(self.stack[:-1]):
            root = node_hash(left, root)
        return root


def strict_json(data):
    """Parses JSON with the rules of §3.2; raises ValueError (or RecursionError) for what they refuse."""
    def members(pairs):
        names = [unicodedata.normalize("NFC", name) for name, _ in pairs]
        if len(set(names)) != len(names):
            raise ValueError("duplicate key")
        return dict(pairs)
    def integer(text):  # beyond 2^53 only the spelling §3.1 gives its double: shortest digits, < 1e21
        value = float(text)
        if abs(value) >= 2**53 and (abs(value) >= 1e21 or str(int(Decimal(repr(value)))) != text):
            raise ValueError(f"integer {text} would change when read")
        return value
    def number(text):
        if abs(float(text)) == float("inf"):
            raise ValueError(f"number {text} is out of range")
        if float(text) == 0 and any(digit in "123456789" for digit in text.lower().split("e")[0]):
            raise ValueError(f"number {text} would become 0")
        return float(text)
    def depth(value):
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else None
        return 0 if children is None else 1 + max(map(depth, children), default=0)
    def constant(name):
        raise ValueError(f"{name} is not JSON")

    if data.startswith(b"\xef\xbb\xbf"):
        raise ValueError("a byte-order mark")
    value = json.loads(data.decode("utf-8"), object_pairs_hook=members, parse_int=integer,
                       parse_float=number, parse_constant=constant)
    json.dumps(value, ensure_ascii=False).encode("utf-8")  # raises for a lone surrogate
    if depth(value) > 256:
        raise ValueError("nesting deeper than 256 levels")
    return value


def genesis_problem(line, key):
    """Why entry 0 is not the genesis entry of the ledger of `key` (§8.1 step 3.7), or None."""
    try:
        entry = strict_json(line)
    except (ValueError, RecursionError):
        return "entry 0 is not JSON that spec §3.2 accepts"
    body = entry.get("body") if isinstance(entry, dict) else None
    origin, public_key = (body.get("origin"), body.get("public_key")) if isinstance(body, dict) else (None, None)
    if entry.get("kind") != "ledger.created" or not isinstance(origin, str) or not isinstance(public_key, str):
        return "entry 0 is not a ledger.created entry with origin and public_key"
    if not same_text(public_key, key.text):
        return f"entry 0 names key {public_key}, not the expected {key.text} (key.pub)"
    try:
        if same_text(parse_key(public_key).name, origin):
            return None
    except Failure:
        pass
    return f"entry 0's public_key is not a valid verifier key named {origin}"


def check_entries(file, key, tree, roots_by_size, own_size):
    """Streams the entries into `tree` (§8.1 steps 3 to 5); returns the first Fault, or None."""
    lines = (line[:-1] if line.endswith(b"\n") else line for line in file)  # a last line without LF counts
    previous, before_previous, previous_at, matched = bytes(32), None, b"", 0
    for line in lines:
        p, h, fields = tree.size, leaf_hash(line), envelope(line)
        if fields is None:
            return Fault(p, "malformed", f"entry {p} is not a canonical ledger entry (v1 envelope)")
        at, prev, seq = fields
        if seq > p:
            following = next(lines, None)
            if following is not None and leaf_hash(following) == prev:
                return Fault(p, "reordered", f"entries {p} and {p + 1} are out of order (swapped)")
            return Fault(p, "gap", f"entry {p} is missing: the entry in its place says seq {seq}")
        if seq < p or prev != previous:
            if p >= 2 and prev == before_previous:
                return Fault(p - 1, "inserted", f"entry {p - 1} is not linked: entry {p} links past it")
            if seq < p:
                return Fault(p, "inserted", f"the entry at {p} says seq {seq}: it was inserted or moved here")
            return Fault(p, "broken-link", "entry 0 must have prev of 64 zeros" if p == 0 else
                         f"entry {p}'s prev is not the leaf hash of entry {p - 1}: that entry or this link was changed")
        if p > 0 and at < previous_at:
            return Fault(p, "time-order", f"entry {p} is dated before entry {p - 1}")
        if p == 0 and (problem := genesis_problem(line, key)):
            return Fault(0, "genesis", problem)
        tree.append(h)
        before_previous, previous, previous_at = previous, h, at
        roots = roots_by_size.get(tree.size)
        if roots:
            root = tree.root()
            if len(set(roots)) > 1:
                return Fault(matched, "fork", f"checkpoints of size {tree.size} have different roots: "
                             f"the key signed two histories, forked after seq {matched} at the latest")
            if root != roots[0]:
                return Fault(matched, "rewritten", f"the first {tree.size} entries do not match the checkpoint "
                             f"of that size (root {root.hex()[:16]}…, signed {roots[0].hex()[:16]}…)")
            matched = tree.size
    if own_size is not None and tree.size > own_size:
        return Fault(own_size, "inserted", f"entries.jsonl has entries beyond the {own_size} its checkpoint covers")
    larger = min((size for size in roots_by_size if size > tree.size), default=None)
    if larger:
        return Fault(tree.size, "truncated", f"the bundle has {tree.size} entries but a signed checkpoint "
                     f"has {larger}: entries {tree.size}…{larger - 1} are gone")
    return None


Verdict = namedtuple("Verdict", "size root trusted fault checked key")


def verify(directory, held, pinned):
    """The verdict on the bundle in `directory` (§8.1 steps 1 to 6); `held` is [(source, text)]."""
    key = parse_key(read(directory / "key.pub", BUNDLE))
    if pinned and not (same_text(pinned.name, key.name) and pinned[1:3] == key[1:3]):
        fault = Fault(0, "bad-signature", f"key.pub is {key.text}, not the expected key {pinned.text}")
        return Verdict(0, Tree().root(), False, fault, 0, key)
    own = directory / "checkpoint"
    opened = [open_checkpoint(text, source, key) for source, text in [(str(own), read(own, BUNDLE))] + held]
    signature_fault = next((Fault(size, "bad-signature", why) for size, _, why in opened if why), None)
    roots_by_size = {}
    for size, root, why in opened:
        if why is None:
            roots_by_size.setdefault(size, []).append(root)
    entries = directory / "entries.jsonl"
    if not entries.is_file():
        raise Failure(66, f"{entries} not found: {BUNDLE}")
    tree = Tree()
    own_size = opened[0][0] if opened[0][2] is None else None  # step 4 needs the bundle's own checkpoint
    with open(entries, "rb") as file:  # binary: split on LF only
        fault = check_entries(file, key, tree, roots_by_size, own_size)
    fault = signature_fault or fault  # a bad signature is reported ahead of any other fault
    checked = sum(map(len, roots_by_size.values()))
    return Verdict(tree.size, tree.root(), fault is None, fault, checked, key)


def main():
    parser = argparse.ArgumentParser(description="Verify a purser audit bundle (ledger/README.md §8).")
    parser.add_argument("bundle", type=Path, help="the bundle folder (entries.jsonl, checkpoint, key.pub)")
    parser.add_argument("--checkpoint", action="append", default=[], metavar="FILE",
                        help="a signed checkpoint held from before (repeatable)")
    parser.add_argument("--key", metavar="KEY_OR_FILE", help="the expected verifier key, or a file holding it")
    parser.add_argument("--json", action="store_true", help="print the verdict as one line of JSON")
    try:
        args = parser.parse_args()
    except SystemExit as stop:  # bad arguments exit 64, as purser's do
        return 64 if stop.code == 2 else stop.code
    try:
        held = [(path, read(path, "a held checkpoint", strict=False)) for path in args.checkpoint]
        pinned = None
        if args.key is not None:
            pinned = parse_key(read(args.key, "", strict=False) if Path(args.key).exists() else args.key)
        verdict = verify(args.bundle, held, pinned)
    except Failure as failure:
        print(f"verify_bundle.py: error: {failure.args[1]}", file=sys.stderr)
        return failure.args[0]
    fault = verdict.fault
    if args.json:
        print(json.dumps({"fault": fault and {"detail": fault.detail, "kind": fault.kind, "seq": fault.seq},
                          "ok": fault is None, "root": verdict.root.hex(), "size": verdict.size,
                          "trusted": verdict.trusted}, sort_keys=True, separators=(",", ":"), ensure_ascii=False))
    elif fault:
        print(f"FAULT: {fault.kind} at seq {fault.seq}: {fault.detail}")
    else:
        print(f"intact: {verdict.size} entries, root {verdict.root.hex()}")
        print(f"signed by {verdict.key.text}; matches {verdict.checked} signed checkpoint(s)")
        if pinned is None:
            print("(key not pinned: pass --key with the verifier key you recorded, or a rebuilt bundle passes too)")
    return 3 if fault else 0


if __name__ == "__main__":
    sys.exit(main())
