#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Keeps the documents equal to the code. Python 3 standard library only.

usage: check_docs.py --bin build/toolwatch [--root DIR] [--strict]

Checks, each printed as PASS or as one FAIL line per problem, then "docs: N passed,
N failed"; exit status 1 when any check failed:

  agent_flags    the flags of `toolwatch agent --help` (and of the agent's flag table in
                 the source) are exactly the flags documented in docs/configuration.md
  trace_flags    likewise `toolwatch trace --help` (short flags too) and docs/tracing.md
  metrics        every metric family the source can export is documented in
                 docs/metrics.md, and every family documented there is exported
  links          every relative link and #anchor in README.md, CONTRIBUTING.md and
                 docs/*.md resolves (files exist; anchors are GitHub heading slugs)
  runbooks       every alert in deploy/prometheus/alerts.yml has a runbook_url
                 <repository>/blob/<branch>/docs/runbooks.md#<anchor> whose heading
                 exists in docs/runbooks.md, and every alert heading there belongs to an
                 alert
  no_history     no issue numbers, commit hashes, dates or "rounds" of work in the
                 documents (outside code blocks): git keeps the history

Conventions the documents follow:

* A flag is documented by a row of a table whose first header cell is "flag": the row's
  first cell names the flag in backticks, every form of it, e.g. | `-p`, `--pid=N` |.
* A metric family is documented by a row of a table whose first header cell is
  "metric": the first cell names the family (or several) in backticks.

Where the flags come from: the `--help` text (lines indented two spaces that start with
"-": the flag column), and the flag tables in the source (`static const struct flag
agent_flags[]` / `trace_flags[]` entries {"name", 'x', ...}, plus -h/--help that the
parser adds and --version when the set has has_version). A flag that the parser accepts
but --help does not list (or the reverse) is printed as a note; with --strict it fails.

Where the metric families come from: string literals in exporter/ and user/ (*.c and
*.h, recursively) that are a name with a prefix tool_, toolwatch_, host_ or process_,
alone or followed by "{" or a space (an exposition line), and names assembled with
snprintf from a format such as "%s_%s": each argument is a literal, a choice between
two literals (c ? "a" : "b"), or a parameter of the enclosing function whose literal
values are read from that function's calls in the same file. A format that could build
such a name but cannot be resolved so fails the check rather than being skipped.
_bucket, _sum and _count are stripped where the rest is itself a family.
"""

import argparse
import itertools
import os
import re
import subprocess
import sys

PREFIXES = ("tool_", "toolwatch_", "host_", "process_")
NAME_RE = re.compile(r"^((?:tool|toolwatch|host|process)_[a-z0-9_]*[a-z0-9])(?:$|[{ ])")
# literals with a metric prefix that are not metric families, and why
NOT_METRICS = {
    "process_names": "the top-level key of a --tools.rules file (process-exporter format)",
}
FLAG_RE = re.compile(r"^(--[a-z0-9][a-z0-9.-]*|-[A-Za-z])(?:[= ].*)?$")
HELP_FLAG_RE = re.compile(r"(?<![\w-])(--[a-z0-9][a-z0-9.-]*|-[A-Za-z])(?![\w-])")


class Checker:
    def __init__(self, root, binary, strict):
        self.root, self.binary, self.strict = root, binary, strict
        self.results = []  # (name, [problems])
        self.notes = []

    def path(self, *p):
        return os.path.join(self.root, *p)

    def read(self, *p):
        with open(self.path(*p), encoding="utf-8") as f:
            return f.read()


# ---------------------------------------------------------------------------------------
# markdown


def strip_code_blocks(text):
    """The text with fenced code blocks blanked (line numbers kept)."""
    out, fence = [], None
    for line in text.split("\n"):
        m = re.match(r"^\s*(```+|~~~+)", line)
        if fence:
            if m and m.group(1)[0] == fence[0] and len(m.group(1)) >= len(fence):
                fence = None
            out.append("")
            continue
        if m:
            fence = m.group(1)
            out.append("")
            continue
        out.append(line)
    return "\n".join(out)


def strip_inline_code(line):
    return re.sub(r"(`+)(.+?)\1", lambda m: " " * len(m.group(0)), line)


def slug(heading):
    """GitHub's anchor for a heading: markup dropped, lowercase, punctuation other than
    '-' and '_' removed, spaces to '-'."""
    h = heading.strip()
    h = re.sub(r"`([^`]*)`", r"\1", h)
    h = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", h)  # links: their text
    h = re.sub(r"<[^>]+>", "", h)
    h = h.replace("*", "")
    h = h.lower()
    h = re.sub(r"[^\w\- ]", "", h, flags=re.UNICODE)
    return h.replace(" ", "-")


def anchors(text):
    """Anchors of a document's headings, GitHub style (duplicates get -1, -2, ...)."""
    seen, out = {}, set()
    for line in strip_code_blocks(text).split("\n"):
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if not m:
            continue
        s = slug(m.group(1))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else "%s-%d" % (s, n))
    for m in re.finditer(r'<a\s+(?:name|id)="([^"]+)"', text):
        out.add(m.group(1))
    return out


def table_rows(text, first_header):
    """(line number, first cell) of the rows of every table whose first header cell is
    first_header (compared without markup, case-insensitively)."""
    rows = []
    lines = strip_code_blocks(text).split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith("|") and i + 1 < len(lines) and \
                re.match(r"^\s*\|\s*:?-{3,}", lines[i + 1]):
            head = [c.strip() for c in line.strip().strip("|").split("|")]
            take = head and head[0].strip("`* ").lower() == first_header
            i += 2
            while i < len(lines) and lines[i].lstrip().startswith("|"):
                if take:
                    cells = split_row(lines[i])
                    rows.append((i + 1, cells[0] if cells else ""))
                i += 1
            continue
        i += 1
    return rows


def split_row(line):
    """Cells of a table row; '|' inside backticks does not split."""
    cells, cur, tick = [], "", False
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    for ch in s:
        if ch == "`":
            tick = not tick
        if ch == "|" and not tick:
            cells.append(cur.strip())
            cur = ""
            continue
        cur += ch
    if cur.strip():
        cells.append(cur.strip())
    return cells


def backticked(cell):
    return re.findall(r"`([^`]+)`", cell)


# ---------------------------------------------------------------------------------------
# C source


def strip_c_comments(src):
    """Comments replaced by spaces (newlines kept); string and char literals untouched."""
    out, i, n = [], 0, len(src)
    while i < n:
        c = src[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and src[j] != c:
                j += 2 if src[j] == "\\" else 1
            out.append(src[i:j + 1])
            i = j + 1
        elif src.startswith("/*", i):
            j = src.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", src[i:j]))
            i = j
        elif src.startswith("//", i):
            j = src.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        else:
            out.append(c)
            i += 1
    return "".join(out)


STRING_RE = re.compile(r'"((?:[^"\\\n]|\\.)*)"')


def literals(src):
    """(offset, value) of every string literal, adjacent literals joined as C does."""
    out = []
    last_end, cur, start = None, None, None
    for m in STRING_RE.finditer(src):
        if cur is not None and src[last_end:m.start()].strip() == "":
            cur += m.group(1)
        else:
            if cur is not None:
                out.append((start, cur))
            cur, start = m.group(1), m.start()
        last_end = m.end()
    if cur is not None:
        out.append((start, cur))
    return out


def split_args(src, open_paren):
    """Arguments of the call whose '(' is at open_paren, and the offset after ')'."""
    depth, i, cur, args = 0, open_paren, [], []
    while i < len(src):
        c = src[i]
        if c == '"':
            m = STRING_RE.match(src, i)
            cur.append(m.group(0))
            i = m.end()
            continue
        if c in "([{":
            depth += 1
            if depth == 1:
                i += 1
                continue
        elif c in ")]}":
            depth -= 1
            if depth == 0:
                args.append("".join(cur).strip())
                return args, i + 1
        elif c == "," and depth == 1:
            args.append("".join(cur).strip())
            cur = []
            i += 1
            continue
        cur.append(c)
        i += 1
    return args, i


FUNC_RE = re.compile(r"^[A-Za-z_][\w \t\*]*?\b([A-Za-z_]\w*)\s*\(([^;{}()]*)\)\s*\{", re.M)


def functions(src):
    """(start offset, name, [parameter names], offset of the name) of every function
    definition."""
    out = []
    for m in FUNC_RE.finditer(src):
        params = []
        name_at = m.start(1)
        for p in m.group(2).split(","):
            ids = re.findall(r"[A-Za-z_]\w*", p)
            params.append(ids[-1] if ids else "")
        out.append((m.start(), m.group(1), params, name_at))
    return out


def literal_choices(arg):
    """The literal values an argument can take, or None when it is not literals."""
    arg = arg.strip()
    m = re.fullmatch(r'"((?:[^"\\]|\\.)*)"', arg)
    if m:
        return [m.group(1)]
    m = re.fullmatch(r'.*\?\s*"((?:[^"\\]|\\.)*)"\s*:\s*"((?:[^"\\]|\\.)*)"', arg, re.S)
    if m:
        return [m.group(1), m.group(2)]
    return None


def could_be_metric(fmt):
    """Whether a format joins parts into a name ("%s_%s", "tool_%s", "%s_total") that can
    have a metric prefix; a bare "%s" or "%s%s" copies strings and builds no name."""
    if "_" not in fmt.replace("%s", ""):
        return False
    head = fmt.split("%s", 1)[0]
    return head == "" or any(p.startswith(head) or head.startswith(p) for p in PREFIXES)


def assembled_names(src, rel, problems):
    """Names snprintf builds from a %s format (see the module docstring)."""
    names = set()
    funcs = functions(src)
    for m in re.finditer(r"\bsnprintf\s*\(", src):
        args, _ = split_args(src, m.end() - 1)
        if len(args) < 3:
            continue
        fmt = literal_choices(args[2])
        if not fmt or len(fmt) != 1 or "%s" not in fmt[0]:
            continue
        fmt = fmt[0]
        if not re.fullmatch(r"(?:[a-z0-9_]|%s)+", fmt) or not could_be_metric(fmt):
            continue
        line = src.count("\n", 0, m.start()) + 1
        enclosing = [f for f in funcs if f[0] < m.start()]
        choices = []
        for a in args[3:3 + fmt.count("%s")]:
            vals = literal_choices(a)
            if vals is None and enclosing and a in enclosing[-1][2]:
                fname, params = enclosing[-1][1], enclosing[-1][2]
                pos = params.index(a)
                vals = []
                for c in re.finditer(r"\b%s\s*\(" % re.escape(fname), src):
                    before = src[src.rfind("\n", 0, c.start()) + 1:c.start()]
                    if re.search(r"\b(?!return\b)[A-Za-z_]\w*[\s*]+$", before):
                        continue  # a type before the name: the definition or a prototype
                    cargs, _ = split_args(src, c.end() - 1)
                    if len(cargs) != len(params):
                        vals = None
                        break
                    v = literal_choices(cargs[pos])
                    if v is None:
                        vals = None
                        break
                    vals += v
            if not vals:
                problems.append("%s:%d: cannot resolve the metric name built from %r" %
                                (rel, line, fmt))
                choices = None
                break
            choices.append(vals)
        if choices is None:
            continue
        for combo in itertools.product(*choices):
            name = fmt
            for v in combo:
                name = name.replace("%s", v, 1)
            if NAME_RE.match(name):
                names.add(name)
    return names


def source_files(root, top, exts):
    for d, _, files in os.walk(os.path.join(root, top)):
        for f in sorted(files):
            if f.endswith(exts):
                yield os.path.join(d, f)


def code_metric_families(root, problems):
    found = set()
    for top in ("exporter", "user"):
        for path in source_files(root, top, (".c", ".h")):
            with open(path, encoding="utf-8", errors="replace") as f:
                src = strip_c_comments(f.read())
            rel = os.path.relpath(path, root)
            for _, value in literals(src):
                m = NAME_RE.match(value)
                if m and m.group(1) not in NOT_METRICS:
                    found.add(m.group(1))
            found |= assembled_names(src, rel, problems)
    families = set()
    for name in found:
        base = re.sub(r"_(bucket|sum|count)$", "", name)
        families.add(base if base != name and base in found else name)
    return families


def source_flags(root, table):
    """Flags of the C flag table named table (e.g. agent_flags), or None if not found."""
    for path in source_files(root, "user", (".c",)):
        with open(path, encoding="utf-8", errors="replace") as f:
            src = strip_c_comments(f.read())
        m = re.search(r"\bstruct\s+flag\s+%s\s*\[\s*\]\s*=\s*\{" % re.escape(table), src)
        if not m:
            continue
        body, _ = split_args(src, m.end() - 1)
        flags = {"-h", "--help"}  # the parser's own
        for entry in body:
            e = re.match(r'\{\s*"([^"]+)"\s*(?:,\s*\'(.)\')?', entry)
            if e:
                flags.add("--" + e.group(1))
                if e.group(2):
                    flags.add("-" + e.group(2))
        set_name = None
        for s in re.finditer(r"struct\s+flag_set\s+\w+\s*=\s*\{([^;]*)\};", src, re.S):
            if re.search(r"\.flags\s*=\s*%s\b" % re.escape(table), s.group(1)):
                set_name = s.group(1)
        if set_name and re.search(r"\.has_version\s*=\s*true", set_name):
            flags.add("--version")
        return flags, os.path.relpath(path, root)
    return None, None


def help_flags(text):
    flags = set()
    for line in text.split("\n"):
        if not re.match(r"^  -", line):
            continue
        column = re.split(r"\s{2,}", line.strip(), maxsplit=1)[0]
        flags |= set(HELP_FLAG_RE.findall(column))
    return flags


def documented_flags(text):
    flags, problems = {}, []
    for lineno, cell in table_rows(text, "flag"):
        names = backticked(cell)
        if not names:
            problems.append("line %d: a flag row without a `flag` in its first cell" % lineno)
        for n in names:
            m = FLAG_RE.match(n)
            if not m:
                problems.append("line %d: %r in a flag table is not a flag" % (lineno, n))
                continue
            flags.setdefault(m.group(1), lineno)
    return flags, problems


# ---------------------------------------------------------------------------------------
# checks


def check_flags(ck, command, doc, table):
    problems = []
    argv = [ck.binary] + ([command] if command == "trace" else []) + ["--help"]
    try:
        p = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    except OSError as e:
        return ["cannot run %s: %s" % (" ".join(argv), e)]
    if p.returncode != 0:
        return ["%s exited with %d" % (" ".join(argv), p.returncode)]
    helped = help_flags(p.stdout)
    if not helped:
        return ["no flags found in the output of %s" % " ".join(argv)]
    accepted, where = source_flags(ck.root, table)
    if accepted is None:
        problems.append("no flag table %s[] found under user/" % table)
        accepted = set()
    else:
        cmd = "toolwatch %s" % command
        for f in sorted(accepted - helped):
            note = "%s accepts %s (%s) but --help does not list it" % (cmd, f, where)
            (problems if ck.strict else ck.notes).append(note)
        for f in sorted(helped - accepted):
            note = "%s --help lists %s, which %s does not define" % (cmd, f, where)
            (problems if ck.strict else ck.notes).append(note)
    try:
        text = ck.read("docs", doc)
    except OSError as e:
        return problems + ["cannot read docs/%s: %s" % (doc, e)]
    documented, bad = documented_flags(text)
    problems += ["docs/%s %s" % (doc, b) for b in bad]
    exists = helped | accepted
    for f in sorted(exists - set(documented)):
        problems.append("%s is not documented in docs/%s (a `flag` table row)" % (f, doc))
    for f in sorted(set(documented) - exists):
        problems.append("docs/%s:%d documents %s, which toolwatch %s does not have" %
                        (doc, documented[f], f, command))
    return problems


def check_metrics(ck):
    problems = []
    code = code_metric_families(ck.root, problems)
    if not code:
        return problems + ["no metric families found in exporter/ or user/"]
    text = ck.read("docs", "metrics.md")
    documented = {}
    for lineno, cell in table_rows(text, "metric"):
        for n in backticked(cell):
            if not re.fullmatch(r"[a-z_][a-z0-9_]*", n):
                problems.append("docs/metrics.md:%d: %r in a metric table is not a name" %
                                (lineno, n))
                continue
            documented.setdefault(n, lineno)
    for n in sorted(code - set(documented)):
        problems.append("%s is exported but not documented in docs/metrics.md" % n)
    for n in sorted(set(documented) - code):
        problems.append("docs/metrics.md:%d documents %s, which the code does not export" %
                        (documented[n], n))
    return problems


LINK_RE = re.compile(r"(?<!!)\[(?:[^\]]|\][^(])*?\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
IMG_RE = re.compile(r"!\[[^\]]*\]\(\s*<?([^)\s>]+)>?\s*\)")


def doc_files(root):
    files = [f for f in ("README.md", "CONTRIBUTING.md") if os.path.exists(os.path.join(root, f))]
    d = os.path.join(root, "docs")
    if os.path.isdir(d):
        files += ["docs/" + f for f in sorted(os.listdir(d)) if f.endswith(".md")]
    return files


def check_links(ck):
    problems, cache = [], {}

    def anchors_of(rel):
        if rel not in cache:
            cache[rel] = anchors(ck.read(rel))
        return cache[rel]

    for rel in doc_files(ck.root):
        text = strip_code_blocks(ck.read(rel))
        for lineno, line in enumerate(text.split("\n"), 1):
            line = strip_inline_code(line)
            targets = LINK_RE.findall(line) + IMG_RE.findall(line)
            targets += re.findall(r'\b(?:href|src)="([^"]+)"', line)
            for target in targets:
                if re.match(r"^[a-z][a-z0-9+.-]*:", target, re.I):
                    continue  # http:, https:, mailto:
                path, _, anchor = target.partition("#")
                if path:
                    dest = os.path.normpath(os.path.join(os.path.dirname(rel), path))
                    if dest.startswith(".."):
                        problems.append("%s:%d: %s leaves the repository" % (rel, lineno, target))
                        continue
                    if not os.path.exists(os.path.join(ck.root, dest)):
                        problems.append("%s:%d: %s: no such file" % (rel, lineno, target))
                        continue
                else:
                    dest = rel
                if anchor:
                    if not dest.endswith(".md"):
                        problems.append("%s:%d: %s: an anchor into a file that is not "
                                        "markdown" % (rel, lineno, target))
                    elif anchor not in anchors_of(dest):
                        problems.append("%s:%d: %s: %s has no heading #%s" %
                                        (rel, lineno, target, dest, anchor))
    return problems


def alert_runbooks(text):
    """(alert, runbook_url or None, line) for every rule of an alerts file; YAML aliases of
    annotations (annotations: *name) resolve to the anchored block's runbook_url."""
    blocks, cur = [], None
    for lineno, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s*-\s+alert:\s*(\S+)", line)
        if m:
            cur = [m.group(1), lineno, []]
            blocks.append(cur)
        elif re.match(r"^\s*-\s+(record|name):", line) or re.match(r"^\S", line):
            cur = None
        elif cur is not None:
            cur[2].append(line)
    anchored, out = {}, []
    for name, lineno, lines in blocks:
        body = "\n".join(lines)
        a = re.search(r"annotations:\s*&(\w+)", body)
        url = re.search(r"^\s*runbook_url:\s*['\"]?([^'\"\s]+)", body, re.M)
        if a and url:
            anchored[a.group(1)] = url.group(1)
    for name, lineno, lines in blocks:
        body = "\n".join(lines)
        url = re.search(r"^\s*runbook_url:\s*['\"]?([^'\"\s]+)", body, re.M)
        alias = re.search(r"annotations:\s*\*(\w+)", body)
        value = url.group(1) if url else anchored.get(alias.group(1)) if alias else None
        out.append((name, value, lineno))
    return out


def check_runbooks(ck):
    problems = []
    rules = alert_runbooks(ck.read("deploy", "prometheus", "alerts.yml"))
    if not rules:
        return ["no alerts found in deploy/prometheus/alerts.yml"]
    page = ck.read("docs", "runbooks.md")
    have = anchors(page)
    names = {n for n, _, _ in rules}
    for name, url, lineno in rules:
        where = "deploy/prometheus/alerts.yml:%d %s" % (lineno, name)
        # absolute: the project's runbooks page (gen-prometheusrule.py's RUNBOOK_BASE)
        m = re.fullmatch(r"https://\S+/blob/[^/]+/docs/runbooks\.md#([\w-]+)", url or "")
        if not m:
            problems.append("%s: runbook_url %r is not <repository>/blob/<branch>/"
                            "docs/runbooks.md#<anchor>" % (where, url))
        elif m.group(1) not in have:
            problems.append("%s: docs/runbooks.md has no heading #%s" % (where, m.group(1)))
        elif m.group(1) != slug(name):
            problems.append("%s: runbook_url #%s is not the alert's own heading #%s" %
                            (where, m.group(1), slug(name)))
    # every alert heading (## Name) on the page belongs to an alert
    for line in strip_code_blocks(page).split("\n"):
        m = re.match(r"^##\s+(\S+)\s*$", line)
        if m and re.fullmatch(r"[A-Z][A-Za-z0-9]+", m.group(1)) and m.group(1) not in names:
            problems.append("docs/runbooks.md: section %s names no alert in alerts.yml" %
                            m.group(1))
    return problems


HISTORY = [
    (re.compile(r"\b(?:issue|pr|pull request|ticket)\s*#?\d+", re.I), "an issue number"),
    (re.compile(r"(?<![\w/.-])#\d{1,5}\b"), "an issue number"),
    (re.compile(r"\b(?:first|second|third|fourth|next|last|previous|this|that)\s+rounds?\b",
                re.I), "a round of work"),
    (re.compile(r"\b(?:stop|phase|milestone)\s+\d+\b", re.I), "a project phase"),
    (re.compile(r"\b(?:19|20)\d\d-[01]\d-[0-3]\d\b"), "a date"),
]
HEX_RE = re.compile(r"(?<![\w/$.-])[0-9a-f]{7,40}(?![\w/-])")


def check_history(ck):
    problems = []
    for rel in doc_files(ck.root):
        text = strip_code_blocks(ck.read(rel))
        for lineno, line in enumerate(text.split("\n"), 1):
            for rx, what in HISTORY:
                m = rx.search(line)
                if m:
                    problems.append("%s:%d: %s: %r" % (rel, lineno, what, m.group(0)))
            for m in HEX_RE.finditer(strip_inline_code(line)):
                w = m.group(0)
                if re.search(r"[a-f]", w) and re.search(r"\d", w):
                    problems.append("%s:%d: a commit hash: %r" % (rel, lineno, w))
    return problems


def main():
    ap = argparse.ArgumentParser(description="Keeps the documents equal to the code.")
    ap.add_argument("--bin", required=True, help="the toolwatch binary (build/toolwatch)")
    ap.add_argument("--root", default=os.path.abspath(os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")), help="the repository")
    ap.add_argument("--strict", action="store_true",
                    help="a flag the parser accepts but --help omits fails too")
    args = ap.parse_args()
    ck = Checker(os.path.abspath(args.root), os.path.abspath(args.bin), args.strict)
    checks = [
        ("agent_flags", lambda: check_flags(ck, "agent", "configuration.md", "agent_flags")),
        ("trace_flags", lambda: check_flags(ck, "trace", "tracing.md", "trace_flags")),
        ("metrics", lambda: check_metrics(ck)),
        ("links", lambda: check_links(ck)),
        ("runbooks", lambda: check_runbooks(ck)),
        ("no_history", lambda: check_history(ck)),
    ]
    failed = 0
    for name, fn in checks:
        try:
            problems = fn()
        except OSError as e:
            problems = [str(e)]
        if problems:
            failed += 1
            for p in problems:
                print("FAIL %s: %s" % (name, p))
        else:
            print("PASS %s" % name)
    for n in ck.notes:
        print("note: %s" % n)
    print("docs: %d passed, %d failed" % (len(checks) - failed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
