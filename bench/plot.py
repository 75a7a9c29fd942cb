#!/usr/bin/env python3
"""Plots the scale cases of one bench/run output folder: apply, no-op apply
and destroy time against the number of instances, log–log, with a line of
slope 1 (cost linear in N) through each curve's N = 100 point; the
"before" build's figures dashed when the run measured one.

    plot.py OUT FIGURE [MORE …]    writes each (the format from its suffix)
"""

import csv
import statistics
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.ticker  # noqa: E402

out = Path(sys.argv[1])
rows = [r for r in csv.DictReader((out / "raw.csv").open()) if r["status"] == "ok" and r["scenario"].startswith("scale-")]


def series(kind, contender):
    by_n = {}
    for r in rows:
        parts = r["scenario"].split("-")  # scale-apply-1000
        if r["contender"] == contender and len(parts) == 3 and parts[1] == kind and parts[2].isdigit():
            by_n.setdefault(int(parts[2]), []).append(float(r["seconds"]))
    ns = sorted(by_n)
    return ns, [statistics.median(by_n[n]) for n in ns]


plt.rcParams.update({"font.size": 10, "svg.hashsalt": "cthulhu", "svg.fonttype": "none"})
fig, ax = plt.subplots(figsize=(7.5, 4.8))
colors = {"apply": "#1f77b4", "noop": "#2ca02c", "destroy": "#d62728"}
labels = {"apply": "apply", "noop": "no-op apply", "destroy": "destroy"}
for kind in ("apply", "noop", "destroy"):
    ns, ts = series(kind, "process")
    if ns:
        ax.plot(ns, ts, "o-", color=colors[kind], label=f"{labels[kind]}")
        if ns[0] == 100:
            ax.plot([100, ns[-1]], [ts[0], ts[0] * ns[-1] / 100], ":", color=colors[kind], alpha=0.6, linewidth=1)
    bns, bts = series(kind, "before")
    if bns:
        ax.plot(bns, bts, "s--", color=colors[kind], alpha=0.45, label=f"{labels[kind]}, before")
ax.set_xscale("log")
ax.set_yscale("log")
ns = sorted({n for kind in ("apply", "noop", "destroy") for c in ("process", "before") for n in series(kind, c)[0]})
ax.set_xticks(ns, [f"{n:,}" for n in ns])
ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda y, _: f"{y:g}"))
ax.set_xlabel("instances (N)")
ax.set_ylabel("wall time of the command (s)")
ax.set_title("cthulhu, process driver (loopback), N × busybox sleep: median time")
ax.grid(True, which="major", alpha=0.35)
ax.grid(True, which="minor", alpha=0.12)
handles, names = ax.get_legend_handles_labels()
handles.append(plt.Line2D([], [], linestyle=":", color="grey"))
names.append("linear in N (from N = 100)")
ax.legend(handles, names, loc="upper left", fontsize=9)
fig.tight_layout()
for target in sys.argv[2:]:
    fig.savefig(target, metadata={"Date": None} if target.endswith(".svg") else None)
