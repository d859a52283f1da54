#!/usr/bin/env python3
"""Paired, interleaved timing for a noisy shared machine.

Each round runs every command once (the order reverses every other round), so slow drifts
of the machine hit all commands alike; hyperfine runs all rounds of one command first.
Prints per command the median and minimum wall time, the median and minimum CPU time
(user + sys of the children) and the median sys time, and for every command after the
first the median of the per-round ratios first/this.

    ROUNDS=21 chrt -f 50 scripts/bench/paired.py "CMD1" "CMD2" ...

Three warm-up rounds are not counted. Commands run through the shell; output is discarded.
"""
import os, subprocess, sys, time, statistics, resource
n = int(os.environ.get("ROUNDS", "21")); warm = 3
cmds = sys.argv[1:]
times = [[] for _ in cmds]
cpu = [[] for _ in cmds]
sysc = [[] for _ in cmds]
for r in range(n + warm):
    order = list(range(len(cmds)))
    if r % 2: order.reverse()
    for i in order:
        ru = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run(cmds[i], shell=True, stdout=subprocess.DEVNULL, check=True)
        el = (time.perf_counter() - t) * 1000
        ru2 = resource.getrusage(resource.RUSAGE_CHILDREN)
        if r >= warm:
            times[i].append(el)
            sysc[i].append((ru2.ru_stime - ru.ru_stime) * 1000)
            cpu[i].append((ru2.ru_utime + ru2.ru_stime - ru.ru_utime - ru.ru_stime) * 1000)
for i, c in enumerate(cmds):
    ts = times[i]
    line = f"{statistics.median(ts):7.1f} ms median {min(ts):7.1f} min, cpu median {statistics.median(cpu[i]):6.1f} min {min(cpu[i]):6.1f} sys median {statistics.median(sysc[i]):5.1f}"
    if i:
        ratios = [a / b for a, b in zip(times[0], ts)]
        line += f"  ratio vs first: median {statistics.median(ratios):.3f} (min-based {min(times[0])/min(ts):.3f})"
    print(line, "|", c)
