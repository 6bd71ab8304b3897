#!/usr/bin/env python3
"""Write a git fast-import stream of a large history with merges and tags.

usage: make-history.py COMMITS TAG_EVERY > stream; git fast-import < stream

Every 10th commit merges a two-commit side branch; an annotated semver tag is
put every TAG_EVERY commits (0: only the root is tagged). Dates advance by one
minute, with an occasional back-dated commit, as in real merged histories.
"""
import sys

commits, tag_every = int(sys.argv[1]), int(sys.argv[2])
out = sys.stdout.buffer
mark = 0
date = 1_600_000_000


def emit(s):
    out.write(s.encode())


def commit(ref, parents, msg):
    global mark, date
    mark += 1
    date += 60
    when = date - 3600 if mark % 97 == 0 else date
    data = f"{msg}\n".encode()
    emit(f"commit {ref}\nmark :{mark}\n")
    emit(f"author A <a@example.org> {when} +0000\ncommitter A <a@example.org> {when} +0000\n")
    emit(f"data {len(data)}\n")
    out.write(data)
    if parents:
        emit(f"from :{parents[0]}\n")
        for p in parents[1:]:
            emit(f"merge :{p}\n")
    content = f"{mark}\n".encode()
    emit(f"M 100644 inline src/file{mark % 50}.txt\ndata {len(content)}\n")
    out.write(content)
    emit("\n")
    return mark


def tag(name, target):
    msg = f"Release {name}\n".encode()
    emit(f"tag {name}\nfrom :{target}\ntagger A <a@example.org> {date} +0000\ndata {len(msg)}\n")
    out.write(msg)


head = commit("refs/heads/main", [], "root")
tag("v0.0.0", head)
n = 1
while n < commits:
    if n % 10 == 0:
        side = commit("refs/heads/side", [head], f"side {n}")
        side = commit("refs/heads/side", [side], f"side {n}b")
        head = commit("refs/heads/main", [head, side], f"merge {n}")
        n += 3
    else:
        head = commit("refs/heads/main", [head], f"c {n}")
        n += 1
    if tag_every and n % tag_every == 0:
        tag(f"v1.{n // tag_every}.0", head)
# A few commits past the last tag, as on a working branch.
for i in range(7):
    head = commit("refs/heads/main", [head], f"work {i}")
