#!/usr/bin/env python3
"""Draws the growth curves of scripts/growth.sh as an SVG (no third-party package) and prints
their table in Markdown.

    scripts/plot-growth.py docs/bench/<date>/growth     -> docs/bench/<date>/growth/growth.svg

Reads <backend>-<accounts>-<scenario>.json (stet-tpp bench reports). Two panels, GET /accounts
and GET transactions (500 operations); x: accounts in the ledger (log scale); y: latency in ms;
one colour per backend, solid p50, dashed p99.
"""
import json
import math
import re
import sys
from pathlib import Path

SCENARIOS = [("accounts", "GET /accounts"), ("transactions", "GET transactions (500 operations)")]
COLOURS = {"sqlite": "#1f77b4", "postgres": "#d62728"}
NAME = re.compile(r"^(sqlite|postgres)-(\d+)-(accounts|transactions)\.json$")


def load(directory):
    runs = {}
    for path in sorted(directory.glob("*.json")):
        match = NAME.match(path.name)
        if not match:
            continue
        backend, size, scenario = match.group(1), int(match.group(2)), match.group(3)
        runs[(backend, scenario, size)] = json.loads(path.read_text())
    return runs


def panel(runs, scenario, title, x0, width, height):
    """One chart as SVG elements, its top-left corner at (x0, 0)."""
    left, right, top, bottom = 60, 20, 40, 50
    points = {k: v for k, v in runs.items() if k[1] == scenario}
    if not points:
        return []
    sizes = sorted({k[2] for k in points})
    lo, hi = math.log10(min(sizes)), math.log10(max(sizes))
    if hi == lo:
        hi = lo + 1
    ymax = max(v["latency_ms"]["p99"] for v in points.values()) * 1.15 or 1
    plot_w, plot_h = width - left - right, height - top - bottom

    def x(size):
        return x0 + left + (math.log10(size) - lo) / (hi - lo) * plot_w

    def y(ms):
        return top + plot_h - ms / ymax * plot_h

    out = [f'<text x="{x0 + width / 2}" y="22" text-anchor="middle" font-weight="bold">{title}</text>']
    out.append(f'<line x1="{x0 + left}" y1="{top + plot_h}" x2="{x0 + left + plot_w}" y2="{top + plot_h}" stroke="#333"/>')
    out.append(f'<line x1="{x0 + left}" y1="{top}" x2="{x0 + left}" y2="{top + plot_h}" stroke="#333"/>')
    for size in sizes:
        label = f"{size // 1000}k" if size < 1_000_000 else f"{size // 1_000_000}M"
        out.append(f'<text x="{x(size)}" y="{top + plot_h + 18}" text-anchor="middle" font-size="12">{label}</text>')
    for i in range(5):
        ms = ymax * i / 4
        out.append(f'<line x1="{x0 + left}" y1="{y(ms)}" x2="{x0 + left + plot_w}" y2="{y(ms)}" stroke="#ddd"/>')
        out.append(f'<text x="{x0 + left - 6}" y="{y(ms) + 4}" text-anchor="end" font-size="12">{ms:.1f}</text>')
    out.append(f'<text x="{x0 + left + plot_w / 2}" y="{height - 10}" text-anchor="middle" font-size="12">accounts in the ledger</text>')
    out.append(f'<text x="{x0 + 14}" y="{top + plot_h / 2}" font-size="12" transform="rotate(-90 {x0 + 14} {top + plot_h / 2})" text-anchor="middle">latency, ms</text>')
    for backend, colour in COLOURS.items():
        for quantile, dash in (("p50", ""), ("p99", ' stroke-dasharray="6 4"')):
            line = [(x(s), y(points[(backend, scenario, s)]["latency_ms"][quantile]))
                    for s in sizes if (backend, scenario, s) in points]
            if not line:
                continue
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in line)
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
            out.extend(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>' for px, py in line)
    return out


def svg(runs):
    width, height = 480, 320
    body = []
    for i, (scenario, title) in enumerate(SCENARIOS):
        body += panel(runs, scenario, title, i * width, width, height)
    legend_y = height + 10
    legend = []
    for i, (backend, colour) in enumerate(COLOURS.items()):
        lx = 80 + i * 300
        legend.append(f'<line x1="{lx}" y1="{legend_y}" x2="{lx + 30}" y2="{legend_y}" stroke="{colour}" stroke-width="2"/>')
        legend.append(f'<text x="{lx + 36}" y="{legend_y + 4}" font-size="12">{backend} p50</text>')
        legend.append(f'<line x1="{lx + 120}" y1="{legend_y}" x2="{lx + 150}" y2="{legend_y}" stroke="{colour}" stroke-width="2" stroke-dasharray="6 4"/>')
        legend.append(f'<text x="{lx + 156}" y="{legend_y + 4}" font-size="12">{backend} p99</text>')
    total_w, total_h = width * len(SCENARIOS), height + 30
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
            f'font-family="sans-serif" viewBox="0 0 {total_w} {total_h}">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(body + legend) + "\n</svg>\n")


def table(runs):
    lines = ["| backend | accounts | scenario | req/s | p50 ms | p99 ms | answers |", "|---|---:|---|---:|---:|---:|---|"]
    for (backend, scenario, size), r in sorted(runs.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
        answers = ", ".join(f"{k} × {v}" for k, v in r["statuses"].items())
        lat = r["latency_ms"]
        lines.append(f"| {backend} | {size:,} | {scenario} | {r['throughput_rps']:.0f} | {lat['p50']:.2f} | {lat['p99']:.2f} | {answers} |")
    lines.append("")
    for backend in COLOURS:
        for scenario, _ in SCENARIOS:
            sizes = sorted(s for (b, sc, s) in runs if b == backend and sc == scenario)
            if len(sizes) < 2:
                continue
            first, last = runs[(backend, scenario, sizes[0])], runs[(backend, scenario, sizes[-1])]
            for q in ("p50", "p99"):
                change = last["latency_ms"][q] / first["latency_ms"][q] - 1
                lines.append(f"- {backend}, {scenario}, {q}: {sizes[-1]:,} accounts vs {sizes[0]:,}: {change:+.0%}")
    return "\n".join(lines)


def main():
    directory = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
    runs = load(directory)
    if not runs:
        sys.exit(f"no <backend>-<accounts>-<scenario>.json report in {directory}")
    (directory / "growth.svg").write_text(svg(runs))
    print(table(runs))
    print(f"\nplot: {directory / 'growth.svg'}")


if __name__ == "__main__":
    main()
