#!/usr/bin/env python3
"""Writes protocol/vectors/ed25519.json: the public keys and signatures Flightlog refuses (PROTOCOL.md §1.1).

Run from the repository root: python3 protocol/vectors/generate-ed25519.py [path/to/speccheck/cases.json]

The curve arithmetic below is only here to *find* and *label* the vectors (which points have small order, a
message for which a signature without a private key verifies); Flightlog's own check does none of it (it compares
encodings, Sources/FlightlogWire/Ed25519.swift), and the Swift tests check every vector with swift-crypto alone.

The twelve SignatureTest cases are copied verbatim from `cases.json` of novifinancial/ed25519-speccheck (commit
6551933, Apache-2.0), the vectors of Chalkias, Garillot and Nikolaenko, "Taming the many EdDSAs" (SSR 2020,
https://eprint.iacr.org/2020/1244). Pass that file as the argument to refresh them; the copy below is the same.
"""
import hashlib
import json
import sys

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def recover_x(y, sign):
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    return P - x if (x & 1) != sign else x


def add(a, b):
    (x1, y1), (x2, y2) = a, b
    t = D * x1 * x2 * y1 * y2
    return ((x1 * y2 + x2 * y1) * pow(1 + t, P - 2, P) % P, (y1 * y2 + x1 * x2) * pow(1 - t, P - 2, P) % P)


def mul(k, point):
    result = (0, 1)
    while k:
        if k & 1:
            result = add(result, point)
        point = add(point, point)
        k >>= 1
    return result


def encode(point):
    x, y = point
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def order(point):
    for k in (1, 2, 4, 8):
        if mul(k, point) == (0, 1):
            return k
    return None


def challenge(r, a, message):
    return int.from_bytes(hashlib.sha512(r + a + message).digest(), "little") % L


IDENTITY = encode((0, 1))
# The order-8 point whose multiples are all eight points of small order.
T8_Y = int.from_bytes(bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"), "little")
T8 = (recover_x(T8_Y, 0), T8_Y)
SMALL = [mul(k, T8) for k in range(8)]


def forge(a_bytes, a_order):
    """A message whose signature (R = identity, S = 0) verifies under `a` with the cofactorless equation:
    [0]B = R + [h]A holds when h (reduced mod L) is a multiple of A's order."""
    counter = 0
    while True:
        message = f"forged without a private key {counter}".encode()
        if challenge(IDENTITY, a_bytes, message) % a_order == 0:
            return message, IDENTITY + bytes(32)
        counter += 1


def key_tests():
    tests = []
    for point in SMALL:
        a = encode(point)
        message, signature = forge(a, order(point))
        tests.append({
            "comment": f"a point of order {order(point)}" + (" (the identity)" if point == (0, 1) else "")
            + (" (the all-zero key)" if a == bytes(32) else ""),
            "publicKey": a.hex(), "result": "invalid", "defect": "keySmallOrder",
            "forgedMessage": message.hex(), "forgedSignature": signature.hex(),
        })
    for y in (1, P - 1):
        a = (y | (1 << 255)).to_bytes(32, "little")
        tests.append({
            "comment": f"x = 0 with the sign bit set (y = {'1' if y == 1 else 'p - 1'}): RFC 8032 decoding fails",
            "publicKey": a.hex(), "result": "invalid", "defect": "keyNotCanonical",
        })
    for k in range(19):
        for sign in (0, 1):
            a = ((P + k) | (sign << 255)).to_bytes(32, "little")
            tests.append({
                "comment": f"y = p + {k}, sign bit {sign}: not canonical",
                "publicKey": a.hex(), "result": "invalid", "defect": "keyNotCanonical",
            })
    tests.append({
        "comment": "the agent key of the other vectors (seed 00 01 ... 1f)",
        "publicKey": "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8", "result": "valid",
    })
    tests.append({
        "comment": "a key of mixed order (a small-order component added; speccheck case 3): accepted, since a signature"
        " under it still needs the private key of its prime-order part",
        "publicKey": "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d", "result": "valid",
    })
    for size in (0, 31, 33):
        tests.append({
            "comment": f"{size} bytes", "publicKey": ("00" * size), "result": "invalid", "defect": f"keyLength",
        })
    return tests


# What Flightlog answers for each speccheck case, and why (the first check that fails, in the order of §1.1).
SPECCHECK_VERDICTS = [
    ("keySmallOrder", "small A and small R, S = 0"),
    ("keySmallOrder", "small A, mixed R"),
    ("rSmallOrder", "mixed A, small R"),
    (None, "mixed A and mixed R: valid under the cofactorless equation"),
    ("equation", "mixed A and R, valid only under the cofactored equation"),
    ("equation", "mixed A, R of order L, valid only under a cofactored equation with 8h pre-reduced"),
    ("sNotReduced", "S > L"),
    ("sNotReduced", "S >> L"),
    ("rNotCanonical", "non-canonical R, reduced for the hash"),
    ("rNotCanonical", "non-canonical R, not reduced for the hash"),
    ("keyNotCanonical", "non-canonical A, reduced for the hash"),
    ("keyNotCanonical", "non-canonical A, not reduced for the hash"),
]
# What swift-crypto's Curve25519.Signing.PublicKey.isValidSignature answers alone (BoringSSL's row of speccheck's
# results table: V V V V X X X X X X X V).
SWIFT_CRYPTO_ALONE = [True, True, True, True, False, False, False, False, False, False, False, True]


def signature_tests(cases):
    tests = []
    for index, (case, (defect, comment), alone) in enumerate(zip(cases, SPECCHECK_VERDICTS, SWIFT_CRYPTO_ALONE)):
        test = {
            "comment": f"speccheck case {index}: {comment}",
            "publicKey": case["pub_key"], "message": case["message"], "signature": case["signature"],
            "result": "valid" if defect is None else "invalid", "swiftCryptoAlone": alone,
        }
        if defect is not None:
            test["defect"] = defect
        tests.append(test)
    return tests


def main():
    source = sys.argv[1] if len(sys.argv) > 1 else None
    if source:
        with open(source) as f:
            cases = json.load(f)
    else:
        with open("protocol/vectors/ed25519.json") as f:
            existing = json.load(f)
        cases = [
            {"pub_key": t["publicKey"], "message": t["message"], "signature": t["signature"]}
            for t in existing["testGroups"][1]["tests"]
        ]
    keys = key_tests()
    signatures = signature_tests(cases)
    tc = 1
    for test in keys + signatures:
        test["tcId"] = tc
        tc += 1
    document = {
        "algorithm": "ED25519-FLIGHTLOG",
        "generatorVersion": "1",
        "notes": "PROTOCOL.md §1.1: the Ed25519 public keys and signatures Flightlog refuses, and why (`defect`, the"
        " first check that fails: keyLength, keyNotCanonical, keySmallOrder, rNotCanonical, rSmallOrder, sNotReduced,"
        " or equation when swift-crypto's RFC 8032 verification fails). KeyTest: `forgedSignature` over"
        " `forgedMessage` verifies under the key with swift-crypto alone, without any private key: the forgery the"
        " key check prevents. SignatureTest: the cases of novifinancial/ed25519-speccheck (Chalkias, Garillot,"
        " Nikolaenko, 'Taming the many EdDSAs', 2020), `swiftCryptoAlone` being what swift-crypto answers without"
        " Flightlog's checks. Generated by protocol/vectors/generate-ed25519.py.",
        "numberOfTests": tc - 1,
        "testGroups": [
            {"type": "KeyTest", "tests": keys},
            {"type": "SignatureTest", "tests": signatures},
        ],
    }
    with open("protocol/vectors/ed25519.json", "w") as f:
        json.dump(document, f, indent=2, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
