#!/usr/bin/env python3
"""Recomputes a behavioral version id from a materialized directory, written from ledger/README.md alone.

    python3 version_id.py DIR [--bundle BUNDLE_DIR]

DIR is what `purser version materialize` writes (spec §12.5): one file per component and version.json.
This script follows spec §12.6, with Python 3.8+ and its standard library only:

- steps 4 to 7: for each component that version.json lists, read its file and compute its content bytes
  (kind text: the bytes as they are; kinds data, model and commit: the JSON data encoded again as canonical
  JSON, spec §3.1, so a reformatted file still matches); hash them with SHA-256; compare with the digest in
  version.json; then recompute the id (spec §12.3) and compare it with version.json's id.
- with --bundle, also steps 2 and 3: find the first version.recorded entry of that id in the bundle's
  entries.jsonl, check the entry on its own (its id recomputed from its component digests, and each model
  and commit value against its digest), and check that the files match the entry: the same components,
  kinds, file names, digests and sizes.

It does not verify the bundle itself (spec §12.6 step 1): run verify_bundle.py on it first.

Prints the id and exits 0 if everything matches; otherwise prints one line saying what does not match,
on standard error, and exits 1. Bad arguments exit 2.
"""
import argparse
import hashlib
import re
import sys
from pathlib import Path

KINDS = ("text", "data", "model", "commit")
HEX64 = re.compile(r"[0-9a-f]{64}")


class Mismatch(Exception):
    """What does not match, as one line."""


# ---- JSON input: spec §3.2, with verify_bundle.py's parser (the two scripts live side by side) ----

sys.path.insert(0, str(Path(__file__).resolve().parent))
from verify_bundle import strict_json  # noqa: E402


# ---- JSON output: canonical JSON, spec §3.1 (RFC 8785) ----

ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def canonical_string(text):
    out = ['"']
    for char in text:
        if char in ESCAPES:
            out.append(ESCAPES[char])
        elif ord(char) < 0x20:
            out.append("\\u%04x" % ord(char))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def canonical_number(x):
    """ECMAScript Number.prototype.toString of the double x (§3.1 rule 6)."""
    if x == 0:
        return "0"
    sign = "-" if x < 0 else ""
    mantissa, _, exponent = repr(abs(x)).partition("e")  # repr: the shortest digits that read back as x
    whole, _, fraction = mantissa.partition(".")
    digits = whole + fraction
    n = len(whole) + (int(exponent) if exponent else 0)  # x = 0.d1d2… × 10^n
    stripped = digits.lstrip("0")
    n -= len(digits) - len(stripped)
    digits = stripped.rstrip("0")
    k = len(digits)
    if k <= n <= 21:
        return sign + digits + "0" * (n - k)
    if 0 < n <= 21:
        return sign + digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return sign + "0." + "0" * -n + digits
    e = n - 1
    return sign + digits[0] + ("." + digits[1:] if k > 1 else "") + "e" + ("+" if e >= 0 else "-") + str(abs(e))


def canonical_text(value):
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, (int, float)):
        return canonical_number(float(value))
    if isinstance(value, str):
        return canonical_string(value)
    if isinstance(value, list):
        return "[" + ",".join(canonical_text(item) for item in value) + "]"
    if isinstance(value, dict):
        keys = sorted(value, key=lambda key: key.encode("utf-16-be"))  # by UTF-16 code units
        return "{" + ",".join(canonical_string(key) + ":" + canonical_text(value[key]) for key in keys) + "}"
    raise TypeError(f"not a JSON value: {value!r}")


def canonical(value):
    return canonical_text(value).encode("utf-8")


# ---- Spec §12.3 and §12.6 ----

def version_id(digests):
    """The version id of {component name: digest hex} (§12.3)."""
    return hashlib.sha256(canonical(dict(digests))).hexdigest()


def content_bytes(name, kind, path):
    """A component's content bytes from its materialized file (§12.6 step 5)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise Mismatch(f"component {name}: file {path.name} is missing")
    except OSError as error:
        raise Mismatch(f"component {name}: cannot read {path.name}: {error.strerror}")
    if kind == "text":
        return raw
    try:
        return canonical(strict_json(raw))
    except (ValueError, RecursionError) as error:
        raise Mismatch(f"component {name} ({kind}): {path.name} is not JSON that spec §3.2 accepts: {error}")


def read_description(directory):
    """version.json of a materialized directory: (id, {name: (kind, digest, file)})."""
    path = directory / "version.json"
    try:
        description = strict_json(path.read_bytes())
    except FileNotFoundError:
        raise Mismatch(f"{path} is missing: DIR must be a directory that `purser version materialize` wrote")
    except (ValueError, RecursionError) as error:
        raise Mismatch(f"{path} is not JSON that spec §3.2 accepts: {error}")
    if not isinstance(description, dict) or not isinstance(description.get("components"), dict):
        raise Mismatch(f"{path} has no components object")
    claimed = description.get("id")
    if not isinstance(claimed, str) or not HEX64.fullmatch(claimed):
        raise Mismatch(f"{path}: id is not 64 lower-case hex digits")
    components = {}
    for name, component in description["components"].items():
        if not isinstance(component, dict):
            raise Mismatch(f"{path}: component {name} is not an object")
        kind, digest, file = component.get("kind"), component.get("digest"), component.get("file")
        if kind not in KINDS:
            raise Mismatch(f"{path}: component {name} has an unknown kind {kind!r}")
        if not isinstance(digest, str) or not HEX64.fullmatch(digest):
            raise Mismatch(f"{path}: component {name}: digest is not 64 lower-case hex digits")
        if not isinstance(file, str) or file in ("", ".", "..") or "/" in file or "\\" in file or "\0" in file:
            raise Mismatch(f"{path}: component {name}: file {file!r} is not a plain file name")
        components[name] = (kind, digest, file)
    return claimed, components


def recorded_entry(bundle, wanted):
    """The body of the first version.recorded entry of id `wanted` in the bundle (§12.6 step 2)."""
    path = bundle / "entries.jsonl"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise Mismatch(f"{path} is missing")
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    for number, line in enumerate(lines):
        if b'"kind":"version.recorded"' not in line:
            continue
        try:
            entry = strict_json(line)
        except (ValueError, RecursionError):
            raise Mismatch(f"{path} line {number} is not JSON that spec §3.2 accepts (run verify_bundle.py)")
        body = entry.get("body") if isinstance(entry, dict) else None
        if entry.get("kind") == "version.recorded" and isinstance(body, dict) and body.get("id") == wanted:
            seq = entry.get("seq")
            return (canonical_text(seq) if isinstance(seq, float) else number), body
    raise Mismatch(f"no version.recorded entry for {wanted} in {path}")


def check_entry(seq, body):
    """§12.6 step 3: the entry on its own. Returns {name: component object}."""
    components = body.get("components")
    if not isinstance(components, list) or not all(isinstance(c, dict) for c in components):
        raise Mismatch(f"entry {seq}: components is not an array of objects")
    by_name = {}
    for component in components:
        name, digest = component.get("name"), component.get("digest")
        if not isinstance(name, str) or not isinstance(digest, str) or not HEX64.fullmatch(digest):
            raise Mismatch(f"entry {seq}: a component lacks a name or a 64-hex digest")
        if name in by_name:
            raise Mismatch(f"entry {seq}: component {name} appears twice")
        by_name[name] = component
        if component.get("kind") in ("model", "commit") and "value" in component:
            if hashlib.sha256(canonical(component["value"])).hexdigest() != digest:
                raise Mismatch(f"entry {seq}: the value of component {name} does not hash to its digest {digest}")
    recomputed = version_id((name, c["digest"]) for name, c in by_name.items())
    if recomputed != body.get("id"):
        raise Mismatch(f"entry {seq}: its components give the id {recomputed}, but it says {body.get('id')}")
    return by_name


def check(directory, bundle=None):
    """§12.6 steps 2 to 7; returns the id, or raises Mismatch."""
    claimed, components = read_description(directory)
    entry = None
    if bundle is not None:
        seq, body = recorded_entry(bundle, claimed)
        entry = check_entry(seq, body)
        if set(entry) != set(components):
            missing = sorted(set(entry) - set(components))
            extra = sorted(set(components) - set(entry))
            raise Mismatch(f"version.json and entry {seq} name different components "
                           f"(only in the entry: {missing}; only in version.json: {extra})")
    digests = {}
    for name in sorted(components):
        kind, digest, file = components[name]
        content = content_bytes(name, kind, directory / file)
        actual = hashlib.sha256(content).hexdigest()
        if actual != digest:
            raise Mismatch(f"component {name}: {file} hashes to {actual}, but version.json says {digest}")
        if entry is not None:
            recorded = entry[name]
            for member, value in (("kind", kind), ("digest", digest), ("file", file)):
                if recorded.get(member) != value:
                    raise Mismatch(f"component {name}: version.json has {member} {value!r}, "
                                   f"entry {seq} has {recorded.get(member)!r}")
            if recorded.get("size") != len(content):
                size = recorded.get("size")
                raise Mismatch(f"component {name}: {len(content)} content bytes, entry {seq} says size "
                               f"{canonical_text(size) if isinstance(size, (int, float)) else repr(size)}")
        digests[name] = actual
    recomputed = version_id(digests.items())
    if recomputed != claimed:
        raise Mismatch(f"the components give the id {recomputed}, but version.json says {claimed}")
    return recomputed


def main():
    parser = argparse.ArgumentParser(description="Recompute a behavioral version id (spec §12.6).")
    parser.add_argument("directory", metavar="DIR", help="a directory written by `purser version materialize`")
    parser.add_argument("--bundle", metavar="BUNDLE_DIR",
                        help="also check against the version.recorded entry in this (verified) audit bundle")
    arguments = parser.parse_args()
    directory = Path(arguments.directory)
    if not directory.is_dir():
        parser.error(f"{directory} is not a directory")
    try:
        print(check(directory, Path(arguments.bundle) if arguments.bundle else None))
    except Mismatch as mismatch:
        print(f"version_id.py: {mismatch}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
