#!/usr/bin/env python3
"""Prints the Markdown table of a scripts/bench.sh series (the JSON reports of one directory):
stetgate's throughput and latency per scenario, the baseline's throughput over the same requests,
and the ratio between them.

    scripts/bench-table.py docs/bench/<date>
"""
import json
import sys
from pathlib import Path

ORDER = ["accounts-h1", "accounts-h2", "balances-h1", "transactions-h1", "consents-h1", "funds-h1",
         "funds-h2", "refresh-h1", "accounts-batch", "accounts-handshake", "accounts-1000-connections"]


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    reports = {p.stem: json.loads(p.read_text()) for p in directory.glob("*.json")}
    if not reports:
        sys.exit(f"no report in {directory}")
    print("| run | scenario | conns | req/s | p50 ms | p99 ms | max ms | answers | baseline req/s | baseline p99 ms | ratio |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|---:|---:|")
    for name in sorted(reports, key=lambda n: (ORDER.index(n) if n in ORDER else len(ORDER), n)):
        r = reports[name]
        lat = r["latency_ms"]
        answers = ", ".join(f"{k} × {v}" for k, v in r["statuses"].items())
        if r.get("transport_errors"):
            answers += f", no answer × {r['transport_errors']}"
        b = r.get("baseline") or {}
        ratio = r.get("throughput_ratio_to_baseline")
        print(f"| {name} | {r['scenario']}, {r['http']}{', new connection each' if r['new_connection_per_request'] else ''} "
              f"| {r['connections']} | {r['throughput_rps']:.0f} | {lat['p50']:.1f} | {lat['p99']:.1f} | {lat['max']:.1f} "
              f"| {answers} | {b.get('throughput_rps', 0):.0f} | {b.get('latency_ms', {}).get('p99', 0):.1f} "
              f"| {'' if ratio is None else f'{ratio:.0%}'} |")


if __name__ == "__main__":
    main()
