#!/usr/bin/env python3
"""Turns one bench/run output folder (raw.csv, meta.env, orig-probe.txt) into
the Markdown of docs/benchmarks.md on stdout. Every figure comes from raw.csv.

    report.py OUT                  the whole document
    report.py --scale-only OUT     only the scale section (between its markers)
    report.py --splice DOC PART    DOC with its scale section replaced by PART's
                                   (appended when DOC has none)
"""

import csv
import statistics
import sys
from pathlib import Path

BEGIN, END = "<!-- scale: begin (bench/run --scale-only rewrites this section) -->", "<!-- scale: end -->"

if sys.argv[1] == "--splice":
    doc, part = Path(sys.argv[2]).read_text(), Path(sys.argv[3]).read_text().strip() + "\n"
    if BEGIN in doc and END in doc:
        head, rest = doc.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        sys.stdout.write(head + part.strip() + tail)
    elif "\n## The original Python cthulhu" in doc:
        head, tail = doc.split("\n## The original Python cthulhu", 1)
        sys.stdout.write(head.rstrip() + "\n\n" + part + "\n## The original Python cthulhu" + tail)
    else:
        sys.stdout.write(doc.rstrip() + "\n\n" + part)
    sys.exit(0)

scale_only = sys.argv[1] == "--scale-only"
out = Path(sys.argv[-1])
meta = dict(line.split("=", 1) for line in (out / "meta.env").read_text().splitlines() if "=" in line)
rows = list(csv.DictReader((out / "raw.csv").open()))
probe = (out / "orig-probe.txt").read_text().strip() if (out / "orig-probe.txt").exists() else ""

CONTENDERS = {
    "cthulhu": "cthulhu (docker driver)",
    "compose": "docker-compose " + meta.get("compose", ""),
    "raw": "raw Engine API (curl, xargs -P 8)",
    "process": "cthulhu (process driver, loopback)",
    "original": "original cthulhu (Python): writes the folder only",
    "cthulhu-memory": "cthulhu (in-memory engine, `cthulhu-bench`)",
    "before": "cthulhu before (process driver, loopback)",
    "process-disk": "cthulhu (process driver, loopback, fixture on disk)",
}
SCENARIOS = [
    ("cold-10", "cold apply, N = 10"),
    ("cold-30", "cold apply, N = 30"),
    ("noop-30", "no-op apply of a converged N = 30"),
    ("scale-10-20", "scale 10 → 20"),
    ("template-10", "template change on N = 10 (5 instances affected, restarted)"),
    ("destroy-30", "destroy N = 30"),
]
plan_n = meta.get("plan_n", "1000")
SCENARIOS += [
    (f"plan-{plan_n}-cli", f"`cthulhu plan` of {plan_n} instances (process driver, empty state; the whole CLI run)"),
    (f"plan-{plan_n}-empty", f"plan of {plan_n} instances, empty state"),
    (f"plan-{plan_n}-converged", f"plan of {plan_n} instances, converged state"),
    (f"load-{plan_n}", f"load + validate the {plan_n}-instance manifest"),
    (f"apply-{plan_n}-memory", f"apply of {plan_n} instances to the in-memory engine (one run; writes the fixture folder)"),
    ("folder-10", "original: write the fixture folder for 10 instances (starts nothing)"),
    ("folder-30", "original: write the fixture folder for 30 instances (starts nothing)"),
]

ok = [r for r in rows if r["status"] == "ok" and int(r["round"]) >= (1 if meta.get("warmup") == "1" else 0)]
fails = [r for r in rows if r["status"] != "ok"]


def times(scenario, contender):
    return [float(r["seconds"]) for r in ok if r["scenario"] == scenario and r["contender"] == contender]


def rss(contender, scenario=None):
    return [int(r["max_rss_kb"]) for r in ok if r["contender"] == contender and (scenario is None or r["scenario"] == scenario)]


def med(scenario, contender):
    t = times(scenario, contender)
    return statistics.median(t) if t else None


def fmt(s):
    return "—" if s is None else (f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s")


p = print
scale_ns = [int(n) for n in meta.get("scale_ns", "").split()]


def cpu(scenario, contender):
    return [float(r["cpu_seconds"]) for r in ok if r["scenario"] == scenario and r["contender"] == contender and r.get("cpu_seconds")]


def scale_table(c):
    """One table of the scale cases of contender `c`: time, CPU time, ratio to N = 100."""
    have = [n for n in sorted(set(int(r["scenario"].split("-")[2]) for r in ok if r["contender"] == c and r["scenario"].startswith("scale-apply-") and r["scenario"].split("-")[2].isdigit()))]
    p("| N | apply | ÷ N=100 | no-op apply | ÷ N=100 | destroy | ÷ N=100 | CPU time (apply, no-op, destroy) | peak RSS | rounds |")
    p("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    base = {k: med(f"scale-{k}-100", c) for k in ("apply", "noop", "destroy")}
    for n in have:
        cells = [f"{n:,}"]
        for k in ("apply", "noop", "destroy"):
            m = med(f"scale-{k}-{n}", c)
            cells += [fmt(m), f"{m / base[k]:.1f}×" if m is not None and base[k] else "—"]
        cpus = [cpu(f"scale-{k}-{n}", c) for k in ("apply", "noop", "destroy")]
        cells.append(", ".join(fmt(statistics.median(x)) if x else "—" for x in cpus))
        r = [x for k in ("apply", "noop", "destroy") for x in rss(c, f"scale-{k}-{n}")]
        cells += [f"{max(r) / 1024:.1f} MB" if r else "—", str(len(times(f"scale-apply-{n}", c)))]
        p("| " + " | ".join(cells) + " |")
    p()


def scale_section():
    """The scale section, between its markers: how cost grows with N (issue #13)."""
    p(BEGIN)
    p("## Scale: the process driver with N instances (issue #13)")
    p()
    p(f"Generated by `{meta['command']}` (run {meta['stamp']}) from cthulhu {meta['commit']} (release build),")
    p(f"{meta['swift']}; {meta['nproc']} cores ({meta['cpu']}), kernel {meta['kernel']}; load average (1, 5, 15 min)")
    p(f"{meta['load_start']} at start, {meta['load_end']} at end. The two cores are shared with other engineers' builds,")
    p("so wall times move with their load; the CPU time column (user + system of the command) moves less.")
    p("Reproduce: `bench/run --scale-only --scale-dir /dev/shm` (and `--baseline BIN` with")
    p("`BASELINE_COMMIT=<commit>` to measure an earlier release build as \"before\").")
    p()
    p("Each round: a manifest with `driver: process`, `network.mode: loopback` and one group of N instances of")
    p("`/bin/busybox sleep 600` with one Stencil template each; `cthulhu apply` from nothing, `cthulhu apply` again")
    p("(no-op), `cthulhu destroy`. The time is the wall time of the command; peak RSS is `/usr/bin/time`'s")
    p(f"maximum resident set, the largest of the three commands. Medians of {meta.get('scale_rounds', '?')} rounds "
      "(one at 10,000 instances); the ratios divide by the same figure at N = 100.")
    scale_fs, work_fs = meta.get("scale_fs") or "?", meta.get("work_fs") or "?"
    p(f"The fixture folders and the driver's registry are on {scale_fs} (`--scale-dir`), the registry as `/run` holds it")
    p(f"on most systems; this machine's `/run` and `bench/out` are on {work_fs}, where creating a file and removing")
    p("one wait for the virtual disk (see the notes below and the disk table).")
    p()
    for c in ("process", "before", "process-disk"):
        if not any(r["contender"] == c and r["scenario"].startswith("scale-apply-") for r in ok):
            continue
        if c == "process":
            p(f"### cthulhu {meta['commit']}")
        elif c == "before":
            p(f"### Before: cthulhu {meta.get('baseline') or 'baseline'} (one round each)")
        else:
            p(f"### cthulhu {meta['commit']} with the fixture folder on {work_fs} (`--disk-n`, one round)")
        p()
        scale_table(c)
    mem = times("scale-apply-1000-memory", "cthulhu-memory")
    if mem:
        r = rss("cthulhu-memory", "scale-apply-1000-memory")
        p(f"In-memory engine (`cthulhu-bench apply --instances 1000`, the executor, state and fixture folder without")
        p(f"processes, folder on {scale_fs}): apply of 1,000 instances {fmt(statistics.median(mem))} (median of {len(mem)},")
        p(f"{fmt(min(mem))} – {fmt(max(mem))}); the harness peaks at {max(r) / 1024:.1f} MB.")
        p()
    p("![apply, no-op apply and destroy time against N, log–log](benchmarks-scale.svg)")
    p()
    p("Targets (issue #13), on the medians above:")
    p()
    p("| target | measured | |")
    p("| --- | --- | --- |")
    a100, a1k = med("scale-apply-100", "process"), med("scale-apply-1000", "process")
    target("process driver apply of 1,000 ≤ 2 s", a1k, 2.0, fmt(a1k))
    target("apply of 1,000 ≤ 12× apply of 100", None if a1k is None or not a100 else a1k / a100, 12,
           "—" if a1k is None or not a100 else f"{a1k / a100:.1f}× ({fmt(a1k)} vs {fmt(a100)})")
    v = med("scale-noop-1000", "process")
    target("no-op apply of 1,000 ≤ 0.3 s", v, 0.3, fmt(v))
    v = med("scale-destroy-1000", "process")
    target("destroy of 1,000 ≤ 1 s", v, 1.0, fmt(v))
    v = statistics.median(mem) if mem else None
    target("in-memory apply of 1,000 ≤ 1 s", v, 1.0, fmt(v))
    r = [x for k in ("apply", "noop", "destroy") for x in rss("process", f"scale-{k}-1000")]
    v = max(r) / 1024 if r else None
    target("peak RSS at 1,000 ≤ 80 MB", v, 80, "—" if v is None else f"{v:.1f} MB")
    p()
    notes = Path(__file__).with_name("scale-notes.md")
    if notes.exists():
        p(notes.read_text().strip())
        p()
    scale_fails = [r for r in fails if r["scenario"].startswith("scale-")]
    if scale_fails:
        p("Failures in this run:")
        p()
        for r in scale_fails:
            p(f"- {r['scenario']} / {r['contender']} / round {r['round']}: failed after {float(r['seconds']):.2f} s (see run.log)")
        p()
    p(END)


def target(name, value, goal, shown):
    if value is None:
        p(f"| {name} | not measured | — |")
    else:
        p(f"| {name} | {shown} | {'met' if value <= goal else '**missed**'} |")


if scale_only:
    scale_section()
    sys.exit(0)

p("# Benchmarks")
p()
p("Generated by `bench/run` from its own measurements; nothing in this file is")
p("typed by hand. Raw per-round numbers: `bench/out/<stamp>/raw.csv` (not in git).")
p()
command = meta["command"]
if meta.get("orig"):
    command = f"ORIG_CTHULHU=/path/to/the/prepared/checkout {command}"
p(f"Reproduce: `{command}` (run {meta['stamp']}; {meta['warmup']} warm-up round + {meta['rounds']} rounds).")
p()
p("## Machine and versions")
p()
p(f"- {meta['nproc']} cores ({meta['cpu']}), kernel {meta['kernel']}, Docker Engine {meta['engine']} (API 1.41)")
p(f"- cthulhu {meta['commit']} (release build), {meta['swift']}")
p(f"- docker-compose {meta['compose']}, curl {meta['curl']}" + (f", original: {meta['orig']}" if meta.get("orig") else ""))
p(f"- load average (1, 5, 15 min) at start {meta['load_start']}, at end {meta['load_end']}: the engine and the 2 cores")
p("  are shared with other builds and test runs, so single figures are noisy; rounds alternate the")
p("  contenders (cthulhu, compose, raw, process, original, then again) and the tables show medians.")
p()
p("## What is measured")
p()
p("Every contender runs the same containers: image `cthulhu-test:latest` (busybox), command")
p("`sleep 3600`, 16 MB memory limit, one user-defined bridge network with a static address per")
p("container, and two bind mounts (`etc`, `var`) holding a per-instance `config.json`. The time is the")
p("wall time of one command, from its start to its exit; peak RSS is `/usr/bin/time`'s maximum resident")
p("set of the command (for the raw floor and compose scripts: the largest single process, curl or Python).")
p()
p("- **cthulhu**: `cthulhu apply cthulhu.yaml` with `count: N` and a Stencil template; `cthulhu destroy`.")
p("  Destroy force-removes (SIGKILL) the containers.")
p("- **compose**: one service per instance in a `version: \"2.4\"` file (`mem_limit`, `ipv4_address`,")
p("  bind mounts); `up -d`, `down -t 1` (stop with 1 s grace, as `sleep` as PID 1 ignores SIGTERM,")
p("  then remove). The per-instance config files are written by the bench before `up`, untimed")
p("  (compose has no templates). Compose does not notice a changed bind-mounted file, so the")
p("  template change is: rewrite the 5 files, then `docker-compose restart -t 1` of those 5 services")
p("  (the fairest equivalent: `up -d --force-recreate` would recreate rather than restart).")
p("- **raw**: `bench/raw.sh`: network create, then all container creates, then all starts, 8")
p("  requests in flight (`curl --unix-socket` under `xargs -P 8`); removal is `DELETE ?force=true`,")
p("  8 in flight, then the network. The no-op floor is one labelled list call. The template change is")
p("  rewriting the 5 files, then `POST /restart?t=1` for those 5. No tool can do less than this.")
p("- **process**: cthulhu with `driver: process` (loopback mode, no Docker): `busybox sleep 3600`")
p("  as host processes, same template.")
p("- **original**: see the section below.")
p()
p("## Results")
p()
p("The ratio column is this contender's median divided by cthulhu's: above 1.00× cthulhu is faster.")
p()
for sid, title in SCENARIOS:
    present = [c for c in CONTENDERS if c not in ("before", "process-disk") and times(sid, c)]
    if not present:
        continue
    base = "cthulhu" if times(sid, "cthulhu") else present[0]
    b = med(sid, base)
    p(f"### {title}")
    p()
    p(f"| contender | median | min – max | rounds | ÷ {base} median | peak RSS (median) |")
    p("| --- | ---: | ---: | ---: | ---: | ---: |")
    for c in present:
        t = times(sid, c)
        m = statistics.median(t)
        ratio = f"{m / b:.2f}×" if b else "—"
        r = rss(c, sid)
        p(f"| {CONTENDERS[c]} | {fmt(m)} | {fmt(min(t))} – {fmt(max(t))} | {len(t)} | {ratio} | {statistics.median(r) / 1024:.1f} MB |")
    p()

p("## Targets (issue #6)")
p()
p("Goals, not tests. \"met\" means the median of this run meets it.")
p()
p("| target | measured | |")
p("| --- | --- | --- |")


def ratio(sid, other):
    a, b = med(sid, "cthulhu"), med(sid, other)
    return None if a is None or b is None else a / b


for sid, other, goal in [("cold-30", "raw", 1.1), ("cold-30", "compose", 1.0), ("cold-10", "compose", 0.85), ("destroy-30", "compose", 0.55)]:
    r = ratio(sid, other)
    shown = "—" if r is None else f"{r:.2f}× ({fmt(med(sid, 'cthulhu'))} vs {fmt(med(sid, other))})"
    if other == "compose" and med(sid, "raw") and med(sid, "compose"):
        shown += f"; the raw floor is {med(sid, 'raw') / med(sid, 'compose'):.2f}× compose"
    target(f"{sid}: cthulhu ≤ {goal}× {other}", r, goal, shown)
v = med("noop-30", "cthulhu")
target("no-op apply of 30 ≤ 0.15 s", v, 0.15, fmt(v))
for sid in (f"plan-{plan_n}-empty", f"plan-{plan_n}-converged"):
    v = med(sid, "cthulhu-memory")
    target(f"{sid} ≤ 0.3 s (in-memory engine)", v, 0.3, fmt(v))
v = med("cold-30", "process")
target("process driver cold apply of 30 ≤ 0.5 s", v, 0.5, fmt(v))
v = med(f"plan-{plan_n}-cli", "process")
target(f"`cthulhu plan` of {plan_n} (CLI, process driver) ≤ 0.3 s", v, 0.3, fmt(v))
for c in ("cthulhu", "process"):
    r = rss(c)
    v = max(r) / 1024 if r else None
    target(f"peak RSS of {CONTENDERS[c]} ≤ 60 MB (largest of all its `cthulhu` commands)", v, 60, "—" if v is None else f"{v:.1f} MB")
p()
r = rss("cthulhu-memory")
if r:
    p(f"Not counted against the RSS goal: `cthulhu-bench` peaks at {max(r) / 1024:.1f} MB, a harness that keeps")
    p(f"the {plan_n}-instance manifest, its plans and a {plan_n}-instance in-memory engine in one process; the")
    p(f"`cthulhu plan` of the same {plan_n} instances is the CLI figure above.")
    p()

notes = Path(__file__).with_name("notes.md")
if notes.exists():
    p(notes.read_text().strip())
    p()
if scale_ns:
    scale_section()
    p()
p("## The original Python cthulhu")
p()
if meta.get("orig"):
    p(f"Run from a checkout of {meta['orig']} in a virtualenv with its `requirements.txt`, prepared by")
    p("hand outside this repository (this project keeps no script that fetches and installs another")
    p("repository's code): `python3 -m venv DIR-venv`, `DIR-venv/bin/pip install` the requirements but")
    p("`pex==2.1.34` (it only packages the tool and does not install on Python ≥ 3.9), then")
    p("`DIR-venv/bin/pip install --no-deps -e DIR`; `ORIG_CTHULHU=DIR bench/run` runs it.")
    p("What runs: `cthulhu --instances N --docker-image cthulhu-test:latest")
    p("--fixture-root DIR --fixture-name NAME`, which renders the fixture folder (per-instance")
    p("`config.json`, `control` scripts, `spec.json`) and starts nothing; its times are the")
    p("\"original: write the fixture folder\" tables above. They compare with the part of cthulhu's")
    p("apply that writes files, not with starting containers, so they carry no ratio to cthulhu.")
    bridge = meta.get("orig_bridge", "docker0")
    if bridge != "docker0":
        p()
        p(f"The host had no `docker0` with an address when this run started, and the original reads the")
        p(f"addresses it numbers instances from that bridge (`--docker-bridge`, default `docker0`); it")
        p(f"ran with `--docker-bridge {bridge}`, so its `config.json` and `spec.json` hold that interface's")
        p("neighbouring addresses. It writes the same folder otherwise.")
    orig_fail = [r for r in fails if r["contender"] == "original"]
    if orig_fail:
        log = (out / "run.log").read_text() if (out / "run.log").exists() else ""
        why = next((line for line in log.splitlines() if "not a valid newtork interface" in line or "does not have an address" in line), "")
        p()
        p(f"In this run {len(orig_fail)} of its commands failed" + (f", saying: `{why.strip()}`" if why else " (see run.log)") + ".")
    p()
    p("What does not run:")
    p()
    p("- `<fixture>/control start` (each `<ip>/control start`) is `docker run --privileged=true")
    p("  --name iNNN --interactive --tty --detach --publish=3000N:8080 --hostname=iNNN --volume=… --memory=16M IMAGE`.")
    p("  Its fixed names (`i001`) and host ports would collide with anything else on a shared engine,")
    p("  and the addresses it writes into `config.json` and `spec.json` are guessed from `docker0`")
    p("  (`.2`, `.3`, … after the bridge's), never asked of the engine. The bench runs its flags once")
    p("  with a unique name and no `--publish`, then once without `--privileged` (`$WORK` is the")
    p("  bench's scratch folder); the exit status says what fails here:")
    p()
    p("```")
    p(probe or "(no probe output)")
    p("```")
    p()
    exits = [line for line in probe.splitlines() if line.startswith("exit ")]
    if len(exits) == 2 and not exits[0].startswith("exit 0") and exits[1].startswith("exit 0"):
        p("  With `--detach`, this Docker CLI does not ask for a terminal for `--tty` (the second run")
        p("  starts); the privileged container is what the engine refuses. So none of the original's")
        p("  containers start here, and it has no apply figure.")
    else:
        p("  (See the exit statuses above: this run's engine did not behave as on the machine this text")
        p("  was written for; read them rather than this sentence.)")
    p("- `<fixture>/control stop` runs `docker stop -t 1 $(docker ps -q)` and `docker rm $(docker ps -a -q)`:")
    p("  it stops and removes **every** container on the engine, not only the fixture's. It is never")
    p("  run here (the engine is shared), so the original has no destroy figure; it has no plan, no-op,")
    p("  scale or template change either (a second run refuses: the fixture folder exists).")
else:
    p("Not run in this run (`ORIG_CTHULHU` unset): it runs when `ORIG_CTHULHU` points at a checkout of")
    p("sholsapp/cthulhu with a virtualenv `$ORIG_CTHULHU-venv` holding its requirements, prepared by hand")
    p("outside this repository (see `bench/run --help`).")
p()
if fails:
    p("## Failures in this run")
    p()
    for r in fails:
        p(f"- {r['scenario']} / {r['contender']} / round {r['round']}: failed after {float(r['seconds']):.2f} s (see run.log)")
    p()
