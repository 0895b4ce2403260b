#!/usr/bin/env python3
"""Plots latency against the number of virtual hosts from a crossover-bench CSV as an SVG.

    plot_latency.py bench.csv docs/performance-latency.svg
    plot_latency.py --self-test

Python 3 standard library only. Both axes are logarithmic. One line per
(TrafficSplit count, series): end-to-end p99 (API write -> output file), crossover's
own p99, and the full recompute (own part of a ConfigMap update).
"""
import csv
import math
import os
import sys
import tempfile
import xml.etree.ElementTree as ET

WIDTH, HEIGHT = 760, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 230, 40, 60
SERIES = [
    ("e2e_p99_ms", "end-to-end p99", ""),
    ("own_p99_ms", "crossover's own p99", "6,4"),
    ("full_p50_ms", "full recompute p50", "2,3"),
]
COLOURS = {"1": "#1f77b4", "1000": "#d62728"}
FALLBACK_COLOURS = ["#2ca02c", "#9467bd", "#8c564b", "#ff7f0e"]


def read_rows(path):
    with open(path, newline="") as f:
        return [r for r in csv.DictReader(f) if r.get("kind") == "watch"]


def log_ticks(lo, hi):
    ticks = []
    e = math.floor(math.log10(lo))
    while 10 ** e <= hi * 1.0001:
        ticks.append(10 ** e)
        e += 1
    return ticks


def plot(rows, title):
    points = {}
    for r in rows:
        for key, _, _ in SERIES:
            try:
                x, y = float(r["vhosts"]), float(r[key])
            except (KeyError, ValueError):
                continue
            if x > 0 and y > 0:
                points.setdefault((r["splits"], key), []).append((x, y))
    if not points:
        raise ValueError("no data to plot")
    xs = [p[0] for v in points.values() for p in v]
    ys = [p[1] for v in points.values() for p in v]
    x_lo, x_hi = 10 ** math.floor(math.log10(min(xs))), 10 ** math.ceil(math.log10(max(xs)))
    y_lo, y_hi = 10 ** math.floor(math.log10(min(ys))), 10 ** math.ceil(math.log10(max(ys)))
    if x_hi == x_lo:
        x_hi *= 10
    if y_hi == y_lo:
        y_hi *= 10
    pw, ph = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def sx(x):
        return LEFT + pw * (math.log10(x) - math.log10(x_lo)) / (math.log10(x_hi) - math.log10(x_lo))

    def sy(y):
        return TOP + ph * (1 - (math.log10(y) - math.log10(y_lo)) / (math.log10(y_hi) - math.log10(y_lo)))

    svg = ET.Element("svg", xmlns="http://www.w3.org/2000/svg", width=str(WIDTH),
                     height=str(HEIGHT), viewBox=f"0 0 {WIDTH} {HEIGHT}")
    svg.set("font-family", "sans-serif")
    svg.set("font-size", "12")
    ET.SubElement(svg, "rect", x="0", y="0", width=str(WIDTH), height=str(HEIGHT), fill="white")
    ET.SubElement(svg, "text", x=str(LEFT), y="22", attrib={"font-size": "14"}).text = title
    for t in log_ticks(x_lo, x_hi):
        ET.SubElement(svg, "line", x1=f"{sx(t):.1f}", x2=f"{sx(t):.1f}", y1=str(TOP),
                      y2=str(TOP + ph), stroke="#ddd")
        ET.SubElement(svg, "text", x=f"{sx(t):.1f}", y=str(TOP + ph + 18),
                      attrib={"text-anchor": "middle"}).text = f"{t:g}"
    for t in log_ticks(y_lo, y_hi):
        ET.SubElement(svg, "line", x1=str(LEFT), x2=str(LEFT + pw), y1=f"{sy(t):.1f}",
                      y2=f"{sy(t):.1f}", stroke="#ddd")
        ET.SubElement(svg, "text", x=str(LEFT - 6), y=f"{sy(t) + 4:.1f}",
                      attrib={"text-anchor": "end"}).text = f"{t:g}"
    ET.SubElement(svg, "rect", x=str(LEFT), y=str(TOP), width=str(pw), height=str(ph),
                  fill="none", stroke="#333")
    ET.SubElement(svg, "text", x=str(LEFT + pw / 2), y=str(HEIGHT - 18),
                  attrib={"text-anchor": "middle"}).text = "virtual hosts (log scale)"
    ET.SubElement(svg, "text", x="16", y=str(TOP + ph / 2),
                  transform=f"rotate(-90 16 {TOP + ph / 2})",
                  attrib={"text-anchor": "middle"}).text = "milliseconds (log scale)"
    splits = sorted({k[0] for k in points}, key=lambda s: float(s))
    colours = {}
    for i, s in enumerate(splits):
        colours[s] = COLOURS.get(s, FALLBACK_COLOURS[i % len(FALLBACK_COLOURS)])
    legend_y = TOP + 10
    for s in splits:
        for key, label, dash in SERIES:
            pts = sorted(points.get((s, key), []))
            if not pts:
                continue
            attrs = {"fill": "none", "stroke": colours[s], "stroke-width": "2",
                     "points": " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)}
            if dash:
                attrs["stroke-dasharray"] = dash
            ET.SubElement(svg, "polyline", attrib=attrs)
            for x, y in pts:
                ET.SubElement(svg, "circle", cx=f"{sx(x):.1f}", cy=f"{sy(y):.1f}", r="3",
                              fill=colours[s])
            lx = LEFT + pw + 15
            line = {"x1": str(lx), "x2": str(lx + 30), "y1": str(legend_y), "y2": str(legend_y),
                    "stroke": colours[s], "stroke-width": "2"}
            if dash:
                line["stroke-dasharray"] = dash
            ET.SubElement(svg, "line", attrib=line)
            ET.SubElement(svg, "text", x=str(lx + 36), y=str(legend_y + 4)).text = (
                f"{label}, {s} split{'s' if s != '1' else ''}")
            legend_y += 20
    return ET.tostring(svg, encoding="unicode")


def self_test():
    header = ("kind,vhosts,splits,e2e_p99_ms,own_p99_ms,full_p50_ms\n"
              "watch,1,1,3,0.5,0.6\nwatch,1000,1,5,1.5,80\nwatch,1000,1000,9,4,120\n"
              "onetime_quickstart,,,,,\n")
    with tempfile.TemporaryDirectory() as d:
        src = os.path.join(d, "in.csv")
        with open(src, "w") as f:
            f.write(header)
        text = plot(read_rows(src), "self test")
    root = ET.fromstring(text)
    lines = root.findall("{http://www.w3.org/2000/svg}polyline")
    assert len(lines) == 6, f"expected 6 lines, got {len(lines)}"
    try:
        plot([], "empty")
    except ValueError:
        pass
    else:
        raise AssertionError("an empty CSV must be refused")
    print("plot_latency.py self-test: ok")


def main(argv):
    if argv[1:] == ["--self-test"]:
        self_test()
        return 0
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    text = plot(read_rows(argv[1]), "crossover: change-to-output latency vs size")
    with open(argv[2], "w") as f:
        f.write(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
