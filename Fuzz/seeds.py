#!/usr/bin/env python3
"""Writes the seed inputs of one fuzz target into a folder, from the repository's own files.

Usage: python3 Fuzz/seeds.py TARGET OUTDIR   (TARGET: frames, handshake, batch, lines, sigma)

Seeds are made afresh on every run rather than committed: the committed corpus (Tests/Fixtures/fuzz/TARGET) is what
libFuzzer kept of them and of what it found. Each input carries the control bytes its target reads first
(Fuzz/Sources/FuzzTargets/*.swift say what they mean).
"""
import hashlib
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
VECTORS = ROOT / "protocol" / "vectors"
MAX_SEED = 4096


def tests(name, group_type=None):
    data = json.loads((VECTORS / name).read_text())
    for group in data["testGroups"]:
        if group_type is None or group["type"] == group_type:
            yield from group["tests"]


def frames_seeds():
    session = b""
    for test in tests("frames.json"):
        frame = bytes.fromhex(test["frame"])
        for control in (0x40, 0x00, 0x07):
            yield bytes([control]) + frame
    for test in tests("frames.json", "SessionTest"):
        session += bytes.fromhex(test["frame"])
    yield bytes([0x40]) + session
    yield bytes([0x02]) + session
    for test in tests("malformed.json", "MalformedFrameTest"):
        yield bytes([0x40]) + bytes.fromhex(test["input"])
    for test in tests("malformed.json", "IncompleteFrameTest"):
        yield bytes([0x40]) + bytes.fromhex(test["input"])


HANDSHAKE_TYPES = {"hello", "challenge", "proof", "welcome", "enroll", "enrolled", "error", "rotate", "rotated"}


def handshake_seeds():
    session = b""
    for test in tests("frames.json", "SessionTest"):
        if test["frameType"] in ("hello", "proof"):
            session += bytes.fromhex(test["frame"])
    yield session
    hello = None
    for test in tests("frames.json"):
        if test["frameType"] in HANDSHAKE_TYPES:
            frame = bytes.fromhex(test["frame"])
            yield frame
            if test["frameType"] == "hello" and hello is None:
                hello = frame
    for test in tests("frames.json"):
        if hello and test["frameType"] in ("proof", "enroll", "rotate"):
            yield hello + bytes.fromhex(test["frame"])
    for test in tests("malformed.json", "MalformedFrameTest"):
        yield bytes.fromhex(test["input"])


def batch_seeds():
    for test in tests("batches.json"):
        yield b"\x00" + bytes.fromhex(test["envelope"])
        count = test["eventCount"].to_bytes(2, "big")
        payload = bytes.fromhex(test["payload"])
        yield b"\x01" + count + payload
        yield b"\x03" + count + payload
        yield b"\x02" + test["uncompressedLength"].to_bytes(2, "big") + bytes.fromhex(test["compressedPayload"])
    for test in tests("malformed.json", "MalformedBatchTest"):
        yield b"\x00" + bytes.fromhex(test["input"])


LINE_SOURCES = ["loghub/*.log", "fail2ban/*", "filebeat/**/*.log", "auditd/*.log", "bundle-*/events.jsonl"]


def lines_seeds():
    fixtures = ROOT / "Tests" / "Fixtures"
    for pattern in LINE_SOURCES:
        for path in sorted(fixtures.glob(pattern)):
            if not path.is_file() or path.suffix in (".md", ".csv", ".json"):
                continue
            lines = path.read_bytes().split(b"\n")
            # A few lines of each file: the shapes matter, not the volume.
            for line in lines[:12]:
                if line:
                    yield line[:MAX_SEED]


# Shapes the rule packs above do not have: modifiers, keywords, `1 of`/`all of`, a correlation over two documents.
SIGMA_EXTRA = [
    """title: modifiers
detection:
    sel_a:
        Image|endswith: /ssh
        CommandLine|contains|all: [StrictHostKeyChecking, root@]
    sel_b:
        User|startswith: ro
        src_ip|cidr: 203.0.113.0/24
    sel_re:
        message|re: 'Failed (password|publickey)'
    filter:
        User: null
    condition: (1 of sel_* or all of sel_re) and not filter
""",
    """title: keywords
detection:
    keywords:
        - 'Failed password'
        - '*root?from*'
    condition: keywords | count() > 5
    timeframe: 5m
""",
    """title: failed
name: failed_login
detection:
    selection:
        message|contains: Failed
    condition: selection
---
title: many failed
correlation:
    type: event_count
    rules: [failed_login]
    group-by: [src_ip]
    timespan: 10m
    condition:
        gte: 10
""",
    """name: pipeline
transformations:
    - id: map_image
      type: field_name_mapping
      mapping:
          Image: process.executable
""",
]


def sigma_seeds():
    for text in SIGMA_EXTRA:
        yield text.encode()
    for path in sorted(ROOT.glob("aggregator/rules/*.yml")) + sorted(ROOT.glob("aggregator/sigma/*.yml")):
        yield path.read_bytes()
    for path in sorted((ROOT / "Tests").rglob("*.yml")) + sorted((ROOT / "Tests").rglob("*.yaml")):
        if len(path.read_bytes()) <= MAX_SEED:
            yield path.read_bytes()


SEEDS = {
    "frames": frames_seeds,
    "handshake": handshake_seeds,
    "batch": batch_seeds,
    "lines": lines_seeds,
    "sigma": sigma_seeds,
}


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in SEEDS:
        sys.exit(f"usage: {sys.argv[0]} {{{','.join(SEEDS)}}} OUTDIR")
    out = pathlib.Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    count = 0
    for seed in SEEDS[sys.argv[1]]():
        (out / hashlib.sha1(seed).hexdigest()).write_bytes(seed)
        count += 1
    print(f"{count} seeds for {sys.argv[1]} in {out}")


if __name__ == "__main__":
    main()
