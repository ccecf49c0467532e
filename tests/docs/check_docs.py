#!/usr/bin/python3
"""Keeps README.md and docs/*.md true to the tree (boot case docs_consistent, tests/boot/
cases_docs.sh): every relative link leads to a file and, with an #anchor, to a heading of it
(GitHub's anchor rules); every path of the tree written in backquotes (`guest/cpuid.c`) exists (../shared,
beside the clone, is not checked). And every citation of a section in the tree's code,
scripts and man pages (docs/install.md, "The menu entry"; README, "Source layout") names a
heading that the cited document has.
Prints one PASS or FAIL line per document, one for the citations, a FAIL with what leads nowhere.

usage: check_docs.py ROOT
"""
import glob
import os
import re
import sys

SOURCE_PATH = re.compile(r"^[a-z_][a-z0-9_.-]*(?:/[A-Za-z0-9_.-]+)+\.(?:c|h|asm|inc|sh|mk|py|ld|list|patch)$")
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def without_code_blocks(text):
    """Fenced and indented blocks hold commands and serial output, not links."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    return "\n".join(l for l in text.split("\n") if not l.startswith("    "))


def slug(heading):
    """GitHub's anchor of a heading: lower case, markup and punctuation dropped, blanks to -."""
    h = heading.strip().lower()
    h = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", h)
    h = re.sub(r"[`*_]", "", h)
    h = re.sub(r"[^\w\- ]", "", h)
    return h.replace(" ", "-")


def anchors(path, cache={}):
    """The anchors of a file's headings; a repeated heading gets -1, -2... as on GitHub."""
    if path not in cache:
        seen, found, fenced = {}, set(), False
        for line in open(path, encoding="utf-8"):
            if line.startswith("```"):
                fenced = not fenced
            m = re.match(r"^(#{1,6})\s+(.*?)\s*#*\s*$", line)
            if m and not fenced:
                s = slug(m.group(2))
                n = seen.get(s, 0)
                found.add(s if n == 0 else f"{s}-{n}")
                seen[s] = n + 1
        cache[path] = found
    return cache[path]


def problems(root, doc):
    """What in one document does not match the tree, one message each."""
    text = without_code_blocks(open(doc, encoding="utf-8").read())
    out = []
    for code in re.findall(r"`([^`\n]*)`", text):
        if SOURCE_PATH.match(code) and "*" not in code:
            if not os.path.exists(os.path.join(root, code)):
                out.append(f"names `{code}`, which is not in the tree")
    for target in LINK.findall(re.sub(r"`[^`\n]*`", "", text)):
        if re.match(r"^[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        dest = os.path.normpath(os.path.join(os.path.dirname(doc), path)) if path else doc
        if not os.path.exists(dest):
            out.append(f"links to {target}: no such file")
        elif anchor and dest.endswith(".md") and anchor not in anchors(dest):
            out.append(f"links to {target}: no such heading")
    return out


CITATION = re.compile(r'\b(docs/[a-z-]+\.md|README(?:\.md)?),? +"([^"\n]+)"')
NOT_CITING = {".git", "build", "third_party", "docs"}     # docs/ link with (checked above)


def headings(path, cache={}):
    """The text of a Markdown file's headings, outside fenced blocks."""
    if path not in cache:
        found, fenced = set(), False
        for line in open(path, encoding="utf-8"):
            if line.startswith("```"):
                fenced = not fenced
            m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m and not fenced:
                found.add(m.group(1))
        cache[path] = found
    return cache[path]


def stale_citations(root):
    """Citations of a document's section, in files outside NOT_CITING and README.md, whose
    document or heading does not exist; one message each. A citation is written on one line:
    FILE, "Heading" (README alone means README.md)."""
    out = []
    for top, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if not (top == root and d in NOT_CITING)]
        for name in files:
            path = os.path.join(top, name)
            if path == os.path.join(root, "README.md"):
                continue
            try:
                text = open(path, encoding="utf-8").read()
            except (UnicodeDecodeError, OSError):
                continue                                  # binary
            for n, line in enumerate(text.split("\n"), 1):
                for doc, heading in CITATION.findall(line):
                    doc = "README.md" if doc == "README" else doc
                    where = f"{os.path.relpath(path, root)}:{n}"
                    dest = os.path.join(root, doc)
                    if not os.path.exists(dest):
                        out.append(f"{where} cites {doc}, which is not in the tree")
                    elif heading not in headings(dest):
                        out.append(f"{where} cites {doc}, \"{heading}\": no such heading")
    return out


def main():
    root = sys.argv[1]
    docs = [os.path.join(root, "README.md")] + sorted(glob.glob(os.path.join(root, "docs", "*.md")))
    failed = 0
    for doc in docs:
        name = os.path.relpath(doc, root)
        found = problems(root, doc)
        if found:
            failed += 1
            print(f"FAIL docs: {name}: " + "; ".join(found))
        else:
            print(f"PASS docs: {name}: every link and source path leads somewhere")
    stale = stale_citations(root)
    if stale:
        failed += 1
        print("FAIL docs: citations in the tree: " + "; ".join(stale))
    else:
        print("PASS docs: citations in the tree: every cited document and section exists")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
