#!/usr/bin/env python3
"""Write a git fast-import stream for the image-check benchmark.

usage: make-window.py COMMITS > stream; git fast-import < stream

The root commit adds `src/` and is tagged v1.0.0; every later commit changes
only `docs/`, so the source-change window from HEAD holds all COMMITS commits
(a first-parent chain).
"""
import sys

commits = int(sys.argv[1])
out = sys.stdout.buffer
date = 1_600_000_000


def emit(s):
    out.write(s.encode())


for mark in range(1, commits + 1):
    date += 60
    msg = f"commit {mark}\n".encode()
    emit(f"commit refs/heads/main\nmark :{mark}\n")
    emit(f"author A <a@example.org> {date} +0000\ncommitter A <a@example.org> {date} +0000\n")
    emit(f"data {len(msg)}\n")
    out.write(msg)
    if mark > 1:
        emit(f"from :{mark - 1}\n")
    if mark == 1:
        src = b"int main;\n"
        emit(f"M 100644 inline src/main.c\ndata {len(src)}\n")
        out.write(src)
    content = f"{mark}\n".encode()
    emit(f"M 100644 inline docs/file{mark % 50}.txt\ndata {len(content)}\n")
    out.write(content)
    emit("\n")
    if mark == 1:
        note = b"Release v1.0.0\n"
        emit(f"tag v1.0.0\nfrom :1\ntagger A <a@example.org> {date} +0000\ndata {len(note)}\n")
        out.write(note)
