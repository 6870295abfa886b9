#!/usr/bin/env python3
"""Fails on any import cycle between the library's modules (`make lint`, `make test`).

A module is a file of src/ (src/a/mod.rs is `a`, src/a/b.rs is `a::b`); it depends on every module a
path in it names (`use crate::a::b`, `super::c::d`, `self::e`, in `use` trees and in code), resolved
to the deepest module that exists. Two kinds of reference are not dependencies: a `mod x;`
declaration, and a `pub use` in a mod.rs or lib.rs (the facade re-exporting what its children
define). Comments, string literals, `pub(in path)` visibilities and test code (inline
`#[cfg(test)] mod` blocks, files declared under `#[cfg(test)]` and what they declare) are ignored. Each strongly connected group of more than one
module is a cycle, printed with the references that close it. src/bin is another crate and is not
checked.

Usage: scripts/lint-imports.py [SRC_DIR]   (default: src)
"""
import pathlib
import re
import sys


def module_of(path, src):
    rel = path.relative_to(src).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] in ("mod", "lib"):
        parts = parts[:-1]
    return tuple(parts)


def strip(text):
    """Removes comments, string and char literals (keeps line count)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "r" and re.match(r'r#*"', text[i:]):
            hashes = re.match(r"r(#*)\"", text[i:]).group(1)
            end = text.find('"' + hashes, i + 2 + len(hashes))
            i = n if end < 0 else end + 1 + len(hashes)
            out.append('""')
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""')
            i = j + 1
        elif c == "'" and re.match(r"'(\\.|[^\\'])'", text[i:]):
            i += len(re.match(r"'(\\.|[^\\'])'", text[i:]).group(0))
        else:
            out.append(c)
            i += 1
    return "".join(out)


def without_test_blocks(code):
    """Drops inline `#[cfg(test)] mod name { ... }` blocks."""
    out, pos = [], 0
    for m in re.finditer(r"#\[cfg\(test\)\]\s*(pub(\([^)]*\))?\s+)?mod\s+\w+\s*\{", code):
        if m.start() < pos:
            continue
        depth, i = 1, m.end()
        while i < len(code) and depth:
            depth += {"{": 1, "}": -1}.get(code[i], 0)
            i += 1
        out.append(code[pos : m.start()])
        pos = i
    out.append(code[pos:])
    return re.sub(r"pub\(in [^)]*\)", "pub", "".join(out))


def test_children(code):
    """The child modules a file declares under `#[cfg(test)]`."""
    return set(re.findall(r"#\[cfg\(test\)\]\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(\w+)\s*;", code))


def use_trees(code):
    """Yields (is_pub, [path segments]) for every leaf of every `use` statement."""
    for m in re.finditer(r"(\bpub(\([^)]*\))?\s+)?\buse\s+([^;]+);", code):
        is_pub = m.group(1) is not None
        for path in expand(m.group(3).replace("\n", " ")):
            yield is_pub, path


def expand(tree, prefix=()):
    tree = tree.strip()
    if not tree:
        return
    # Split at top-level commas.
    depth, start, pieces = 0, 0, []
    for i, c in enumerate(tree):
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        elif c == "," and depth == 0:
            pieces.append(tree[start:i])
            start = i + 1
    pieces.append(tree[start:])
    if len(pieces) > 1:
        for p in pieces:
            yield from expand(p, prefix)
        return
    tree = pieces[0].strip()
    brace = tree.find("{")
    if brace >= 0:
        head = [s for s in tree[:brace].split("::") if s.strip()]
        inner = tree[brace + 1 : tree.rfind("}")]
        yield from expand(inner, prefix + tuple(s.strip() for s in head))
        return
    path = tree.split(" as ")[0].strip()
    segments = tuple(s.strip() for s in path.split("::") if s.strip())
    if segments == ("self",):
        yield prefix
    else:
        yield prefix + segments


def resolve(segments, here, modules):
    """The module a path names from module `here`, or None when it is outside the crate."""
    if not segments:
        return None
    base = list(here)
    i = 0
    if segments[0] == "crate":
        base, i = [], 1
    elif segments[0] in ("super", "self"):
        while i < len(segments) and segments[i] in ("super", "self"):
            if segments[i] == "super":
                base = base[:-1]
            i += 1
    else:
        # A path from the current module: a child module or item, or an outside crate.
        if tuple(base + [segments[0]]) not in modules:
            return None
    target = tuple(base)
    for s in segments[i:]:
        if target + (s,) in modules:
            target = target + (s,)
        else:
            break
    return target


def main():
    src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "src")
    files = {}
    for path in sorted(src.rglob("*.rs")):
        if "bin" in path.relative_to(src).parts:
            continue
        files[module_of(path, src)] = path
    test_only = set()
    for here, path in sorted(files.items(), key=lambda kv: len(kv[0])):
        if here in test_only:
            test_only.update(m for m in files if m[: len(here)] == here)
            continue
        for child in test_children(strip(path.read_text())):
            test_only.update(m for m in files if m[: len(here) + 1] == here + (child,))
    for m in test_only:
        del files[m]
    modules = set(files)
    edges = {m: {} for m in modules}
    for here, path in files.items():
        code = without_test_blocks(strip(path.read_text()))
        facade = path.name in ("mod.rs", "lib.rs")
        for is_pub, segments in use_trees(code):
            if facade and is_pub:
                continue
            target = resolve(segments, here, modules)
            if target is not None and target != here:
                edges[here].setdefault(target, "use " + "::".join(segments))
        code_without_uses = re.sub(r"\buse\s+[^;]+;", "", code)
        for m in re.finditer(r"\b(?:crate|super|self)(?:::[A-Za-z_][A-Za-z0-9_]*)+", code_without_uses):
            segments = tuple(m.group(0).split("::"))
            target = resolve(segments, here, modules)
            if target is not None and target != here:
                edges[here].setdefault(target, m.group(0))
    cycles = strongly_connected(modules, edges)
    if not cycles:
        print(f"no import cycle among {len(modules)} modules of {src}/")
        return 0
    for group in cycles:
        names = sorted("::".join(m) or "crate" for m in group)
        print(f"import cycle among {len(group)} modules: {', '.join(names)}", file=sys.stderr)
        for m in sorted(group):
            for t, why in sorted(edges[m].items()):
                if t in group:
                    print(f"  {'::'.join(m) or 'crate'} -> {'::'.join(t) or 'crate'} ({why})", file=sys.stderr)
    return 1


def strongly_connected(nodes, edges):
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in edges[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(group)

    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


if __name__ == "__main__":
    sys.exit(main())
