#!/usr/bin/env python3
"""Summarises the server's /metrics after a fuzzing run (stdin): answers by status, and how many
operations answered at least once with a 2xx (reached real records, not only refusals)."""
import collections
import re
import sys

by_status = collections.Counter()
ok_ops, all_ops = set(), set()
for line in sys.stdin:
    m = re.match(r"gongzhi_http_requests_total\{(.*)\} (\d+)", line)
    if not m:
        continue
    labels = dict(re.findall(r'(\w+)="([^"]*)"', m.group(1)))
    if not labels.get("route", "").startswith("/api/v1/"):
        continue
    op = (labels["method"], labels["route"])
    all_ops.add(op)
    by_status[labels["status"]] += int(m.group(2))
    if labels["status"].startswith("2"):
        ok_ops.add(op)
print("answers by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(by_status.items())))
print(f"operations with a 2xx answer: {len(ok_ops)} of {len(all_ops)}")
if "-v" in sys.argv:
    for op in sorted(all_ops - ok_ops):
        print("  no 2xx:", *op)
