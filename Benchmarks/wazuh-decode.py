#!/usr/bin/env python3
"""What Wazuh's decoders extract from the log lines of Wazuh's own ruleset tests, as JSON lines.

Usage: python3 Benchmarks/wazuh-decode.py WAZUH_CHECKOUT [TEST.ini ...] > decoded.jsonl

WAZUH_CHECKOUT is a checkout of https://github.com/wazuh/wazuh at a 4.x tag (the ruleset left that repository in
5.0); its `ruleset/decoders/*.xml` are read at run time and nothing of them is copied. Each `log N pass|fail = LINE`
of the named `ruleset/testing/tests/*.ini` files is decoded and printed with the fields the decoders give it.

This is an emulation of analysisd's decoding, written for this comparison, not Wazuh itself: syslog pre-decoding
(program name, the message after `program[pid]: `), then the first parent decoder whose `program_name` (OS_Match) and
`prematch` match, then its children in file order, a child's siblings of the same name adding their fields
(`offset="after_regex"` going on from the previous sibling's match). OS_Regex is translated to Python's `re`: its
classes (\\w is [-@_0-9A-Za-z], \\p punctuation, \\. any character), case-insensitive literals, and `+`/`*` matching
as few characters as will do, as OS_Regex's matcher stops a repeated class where the next pattern character
matches (and as many as match at the pattern's end). Each `.ini` section names the parent decoder Wazuh must reach (`decoder =`); `decoder_expected` and
`decoder` in the output let the caller check the emulation against it.
"""

import json
import pathlib
import re
import sys

CLASSES = {
    "w": r"[-@_0-9A-Za-z]",
    "d": r"[0-9]",
    "s": r" ",
    "t": r"\t",
    "p": r"""[!"#$%&'()*+,\-.:;<=>?\[\]{|}]""",
    "W": r"""[^-@_0-9A-Za-z]""",
    "D": r"[^0-9]",
    "S": r"[^ ]",
    ".": r"[\s\S]",
}


def split_alternatives(pattern):
    """Splits an OS_Regex or OS_Match pattern on its unescaped `|`."""
    parts, current, index = [], "", 0
    while index < len(pattern):
        char = pattern[index]
        if char == "\\" and index + 1 < len(pattern):
            current += pattern[index : index + 2]
            index += 2
            continue
        if char == "|":
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    parts.append(current)
    return parts


def os_regex(pattern):
    """One Python regex per OS_Regex alternative."""
    compiled = []
    for alternative in split_alternatives(pattern):
        out, index = "", 0
        if alternative.startswith("^"):
            out, index = "^", 1
        while index < len(alternative):
            char = alternative[index]
            if char == "\\" and index + 1 < len(alternative):
                code = alternative[index + 1]
                index += 2
                piece = CLASSES.get(code, re.escape(code))
                if code in CLASSES and index < len(alternative) and alternative[index] in "+*":
                    # Lazy where a pattern character follows (OS_Regex stops there), greedy at the pattern's end.
                    rest = alternative[index + 1 :].replace(")", "").replace("$", "")
                    piece += alternative[index] + ("?" if rest else "")
                    index += 1
                out += piece
                continue
            if char == "$" and index == len(alternative) - 1:
                out += "$"
            elif char in "()":
                out += char
            else:
                out += re.escape(char)
            index += 1
        compiled.append(re.compile(out, re.IGNORECASE))
    return compiled


def os_match(pattern):
    """OS_Match: literal text with `^`, `$` and `|`, case-insensitive."""
    compiled = []
    for alternative in split_alternatives(pattern):
        start = alternative.startswith("^")
        end = alternative.endswith("$") and not alternative.endswith("\\$")
        body = alternative[1 if start else 0 : -1 if end else None].replace("\\", "")
        compiled.append(re.compile(("^" if start else "") + re.escape(body) + ("$" if end else ""), re.IGNORECASE))
    return compiled


def compile_pattern(text, kind):
    if kind == "pcre2":
        try:
            return [re.compile(re.sub(r"\(\?<(?=[A-Za-z])", "(?P<", text))]
        except re.error:
            return [re.compile(r"(?!)")]
    if kind == "osmatch":
        return os_match(text)
    return os_regex(text)


def search(patterns, text, start):
    """The first alternative that matches text from start on, as (end, captured values); None if none does."""
    # On a slice, so that `^` means the offset the decoder starts from, as in analysisd.
    rest = text[start:]
    for pattern in patterns:
        found = pattern.search(rest)
        if found:
            return start + found.end(), [value for value in found.groups() if value is not None]
    return None


TAG = re.compile(r"<(\w+)((?:\s+\w+=\"[^\"]*\")*)\s*(?:/>|>(.*?)</\1>)", re.S)
ATTRIBUTE = re.compile(r"(\w+)=\"([^\"]*)\"")


class Decoder:
    def __init__(self, name, body):
        self.name = name
        self.parent = None
        self.program_name = None
        self.prematch = None
        self.prematch_offset = None
        self.regex = None
        self.regex_offset = None
        self.order = []
        self.children = []
        regex_text, regex_type = "", "osregex"
        for tag, attributes, value in TAG.findall(body):
            attributes = dict(ATTRIBUTE.findall(attributes))
            # Patterns keep their spaces (a trailing one matters); names and lists do not.
            value = (value or "").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
            if tag not in ("prematch", "regex"):
                value = value.strip()
            if tag == "parent":
                self.parent = value
            elif tag == "program_name":
                self.program_name = compile_pattern(value, attributes.get("type", "osmatch"))
            elif tag == "prematch":
                self.prematch = compile_pattern(value, attributes.get("type", "osregex"))
                self.prematch_offset = attributes.get("offset")
            elif tag == "regex":
                regex_text += value
                regex_type = attributes.get("type", regex_type)
                self.regex_offset = attributes.get("offset", self.regex_offset)
            elif tag == "order":
                self.order = [field.strip() for field in value.split(",")]
        if regex_text:
            self.regex = compile_pattern(regex_text, regex_type)


def load_decoders(root):
    parents, pending = [], []
    for path in sorted((root / "ruleset" / "decoders").rglob("*.xml")):
        text = re.sub(r"<!--.*?-->", "", path.read_text(errors="replace"), flags=re.S)
        for name, body in re.findall(r"<decoder\s+name=\"([^\"]+)\"[^>]*>(.*?)</decoder>", text, re.S):
            decoder = Decoder(name, body)
            if decoder.parent:
                pending.append(decoder)
            else:
                parents.append(decoder)
    for child in pending:
        for parent in parents:
            if parent.name == child.parent:
                parent.children.append(child)
    return parents


MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec)"
HEADERS = [
    re.compile(MONTH + r" [ \d]\d \d\d:\d\d:\d\d(?:\.\d+)?(?: \d{4})? (\S+) (?P<program>[^\s\[:]+)(?:\[\d+\])?: ?"),
    re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d\S* +(\S+) (?P<program>[^\s\[:]+)(?:\[\d+\])?: ?"),
]


# Apache 2.2's error log time is taken as the header; 2.4's, with microseconds, is left to the decoders' prematch.
APACHE_TIME = re.compile(r"\[\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\] ")


def predecode(line):
    """(program name, message) as analysisd's syslog pre-decoding gives them; (None, line) without a header."""
    apache = APACHE_TIME.match(line)
    if apache:
        return None, line[apache.end() :]
    for header in HEADERS:
        found = header.match(line)
        if found:
            return found.group("program"), line[found.end() :]
    return None, line


def decode(parents, line):
    """(parent decoder, child decoder, fields) as analysisd's DecodeEvent reaches them."""
    program, message = predecode(line)
    fields = {}

    def assign(decoder, values):
        for field, value in zip(decoder.order, values):
            fields[field] = value

    for parent in parents:
        # A line with a program name is tried on the decoders that name one (an empty `<program_name/>` takes
        # any), a line without on the others.
        if (program is None) != (parent.program_name is None):
            continue
        if program is not None and search(parent.program_name, program, 0) is None:
            continue
        parent_end = 0
        if parent.prematch:
            found = search(parent.prematch, message, 0)
            if found is None:
                continue
            parent_end = found[0]
        children = parent.children or [parent]
        chosen, prematch_end, index = None, parent_end, 0
        while index < len(children):
            child = children[index]
            if child is parent or not child.prematch:
                chosen = index
                break
            start = parent_end if child.prematch_offset == "after_parent" else 0
            found = search(child.prematch, message, start)
            if found:
                chosen, prematch_end = index, found[0]
                break
            # A failed prematch skips the siblings that share its name.
            while index + 1 < len(children) and children[index + 1].name == child.name:
                index += 1
            index += 1
        if chosen is None:
            return parent.name, None, program, fields
        regex_end, index = None, chosen
        while index < len(children):
            child = children[index]
            siblings = index + 1 < len(children) and children[index + 1].name == child.name
            if child.regex is None:
                break
            start = {
                "after_parent": parent_end,
                "after_prematch": prematch_end,
                "after_regex": prematch_end if regex_end is None else regex_end,
            }.get(child.regex_offset, 0)
            found = search(child.regex, message, start)
            if found is None:
                if siblings:
                    index += 1
                    continue
                break
            regex_end = found[0]
            assign(child, found[1])
            if not siblings:
                break
            index += 1
        return parent.name, children[chosen].name, program, fields
    return None, None, program, fields


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    root = pathlib.Path(sys.argv[1])
    parents = load_decoders(root)
    tests = sys.argv[2:] or ["sshd.ini", "pam.ini", "sudo.ini", "su.ini", "apache.ini", "nginx.ini", "web_appsec.ini"]
    for test in tests:
        section, expected, pending = None, None, []
        lines = []
        for raw in (root / "ruleset" / "testing" / "tests" / test).read_text(errors="replace").splitlines():
            header = re.match(r"^\[(.*)\]\s*$", raw)
            if header:
                lines += [(section, expected, line) for line in pending] if section else []
                section, expected, pending = header.group(1), None, []
                continue
            entry = re.match(r"^log \d+ (pass|fail) = (.*)$", raw)
            if entry and section is not None:
                pending.append((entry.group(1), entry.group(2)))
            decoder = re.match(r"^decoder\s*=\s*(.*)$", raw)
            if decoder:
                expected = decoder.group(1).strip() or None
        if section:
            lines += [(section, expected, line) for line in pending]
        for section, expected, (kind, line) in lines:
            parent, child, program, fields = decode(parents, line)
            record = {
                "file": test,
                "section": section,
                "kind": kind,
                "line": line,
                "decoder_expected": expected,
                "decoder": parent,
                "child": child,
                "fields": fields,
            }
            print(json.dumps(record))


if __name__ == "__main__":
    main()
