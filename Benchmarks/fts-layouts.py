#!/usr/bin/env python3
"""Full-text index layouts measured side by side (issue 26, deliverable 3), on the system SQLite (3.40, FTS5).

Usage: python3 Benchmarks/fts-layouts.py LINES_FILE [EVENTS] [WORKDIR]
  e.g. the input of scripts/bench:  python3 Benchmarks/fts-layouts.py /tmp/flightlog-bench/input-1000000.log

Each layout indexes the same lines (the `line` column only: the store's table also has `program` and `fields`) in a
file of its own, 16 KiB pages and 16,000-byte leaves as the store's index files, 20,000 rows per transaction, then
merges it to one segment ('optimize') so that sizes compare like with like. Printed per layout: CPU seconds to
build, bytes per event, and the median time of queries for a rare token, a common token and a dotted address as a
phrase, with how many documents they return. Without positions (detail=column or none) an address is asked as its
tokens together, which gives candidates; a block layout returns blocks. Those candidates must then be read and
matched on their lines, which is not timed here.
"""
import os
import re
import sqlite3
import statistics
import sys
import time
from collections import Counter

LAYOUTS = [
    # name, fts5 options, events per document
    ("event, detail=full (today)", "tokenize='unicode61'", 1),
    ("event, detail=full, columnsize=0", "tokenize='unicode61', columnsize=0", 1),
    ("event, detail=column", "tokenize='unicode61', detail=column", 1),
    ("event, detail=none", "tokenize='unicode61', detail=none", 1),
    ("block of 64, detail=none", "tokenize='unicode61', detail=none, columnsize=0", 64),
    ("block of 256, detail=none", "tokenize='unicode61', detail=none, columnsize=0", 256),
    ("block of 256, trigram, detail=none", "tokenize='trigram', detail=none, columnsize=0", 256),
]

TOKEN = re.compile(r"[0-9a-z]+")


def main():
    path = sys.argv[1]
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
    work = sys.argv[3] if len(sys.argv) > 3 else "/tmp/flightlog-fts-layouts"
    os.makedirs(work, exist_ok=True)
    with open(path, "rb") as f:
        lines = [line.rstrip(b"\n").decode("utf-8", "replace") for _, line in zip(range(limit), f)]
    counts = Counter()
    for line in lines:
        counts.update(set(TOKEN.findall(line.lower())))
    rare = min((t for t in counts if len(t) > 4), key=lambda t: (abs(counts[t] - 3), t))
    common = counts.most_common(30)[-1][0]
    addresses = Counter(a for line in lines for a in re.findall(r"\b10\.\d+\.\d+\.\d+\b", line))
    address = min(addresses, key=lambda a: (addresses[a], a))
    queries = [("rare token", rare), ("common token", common), ("address as phrase", f'"{address}"')]
    # Without positions a phrase cannot be asked: its tokens together give candidates, to be confirmed on the lines.
    unpositioned = [("rare token", rare), ("common token", common), ("address", " AND ".join(address.split(".")))]
    # A trigram index without positions: the text's trigrams together (a substring query needs them in a row).
    def trigrams(text):
        return " AND ".join('"' + text[i:i + 3].replace('"', '""') + '"' for i in range(len(text) - 2))
    trigram_queries = [("rare token", trigrams(rare)), ("common token", trigrams(common)), ("address", trigrams(address))]
    input_bytes = sum(len(line.encode()) + 1 for line in lines)
    print(f"{len(lines)} lines, {input_bytes / len(lines):.1f} bytes a line; queries: {rare!r} ({counts[rare]} lines), "
          f"{common!r} ({counts[common]} lines), {address} ({addresses[address]} lines)")
    print("| layout | build CPU s | bytes/event | ÷ input | rare ms (docs) | common ms (docs) | address ms (docs) |")
    print("|---|---|---|---|---|---|---|")
    for name, options, block in LAYOUTS:
        file = os.path.join(work, re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") + ".db")
        if os.path.exists(file):
            os.remove(file)
        db = sqlite3.connect(file, isolation_level=None)
        db.execute("PRAGMA page_size = 16384")
        db.execute("PRAGMA journal_mode = WAL")
        db.execute(f"CREATE VIRTUAL TABLE t USING fts5(line, content='', {options})")
        db.execute("INSERT INTO t (t, rank) VALUES ('pgsz', 16000)")
        db.execute("INSERT INTO t (t, rank) VALUES ('automerge', 32)")
        db.execute("INSERT INTO t (t, rank) VALUES ('crisismerge', 64)")
        start = time.process_time()
        documents = [("\n".join(lines[i:i + block]),) for i in range(0, len(lines), block)]
        per_transaction = max(1, 20_000 // block)
        for i in range(0, len(documents), per_transaction):
            db.execute("BEGIN")
            db.executemany("INSERT INTO t (rowid, line) VALUES (?, ?)",
                           ((i + j + 1, d[0]) for j, d in enumerate(documents[i:i + per_transaction])))
            db.execute("COMMIT")
        db.execute("INSERT INTO t (t) VALUES ('optimize')")
        build = time.process_time() - start
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        # Pages in use: 'optimize' leaves the pages of the segments it merged on the free list.
        pages = db.execute("PRAGMA page_count").fetchone()[0] - db.execute("PRAGMA freelist_count").fetchone()[0]
        size = pages * 16384
        cells = []
        chosen = trigram_queries if "trigram" in name else queries if "detail=full" in name else unpositioned
        for (what, query) in chosen:
            times = []
            found = 0
            for _ in range(15):
                t0 = time.perf_counter()
                found = len(db.execute("SELECT rowid FROM t WHERE t MATCH ?", (query,)).fetchall())
                times.append(time.perf_counter() - t0)
            cells.append(f"{statistics.median(times) * 1000:.2f} ({found}{'' if block == 1 else ' blocks'})")
        db.close()
        print(f"| {name} | {build:.1f} | {size / len(lines):.1f} | {size / input_bytes:.2f} | " + " | ".join(cells)
              + " |")


if __name__ == "__main__":
    main()
