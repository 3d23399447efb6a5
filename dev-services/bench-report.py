#!/usr/bin/env python3
"""Numbers for dev-services/bench: one pgbench run -> one JSON line, and all lines -> table, JSON and PNG.

  bench-report.py run-result --target T --workload W --mode M --clients C --duration S \
                             --pgbench-output FILE --log-prefix PREFIX [--keep-logs] [--append FILE]
      Reads pgbench's stdout (TPS) and its per-transaction logs PREFIX.* (latency); prints one JSON line, or with
      --append FILE appends it there and prints a one-line summary.
  bench-report.py throughput-result --target T --rows N --millis MS [--peak-rss-kb K] [--peak-heap-mb H]
      Prints one JSON line for the row-throughput scenario.
  bench-report.py heap-peak --gc-log FILE --from-line N [--jstat FILE]
      Prints the peak heap in use (MB) seen in a JVM's GC log after line N and in jstat -gc samples.
  bench-report.py report --raw FILE --throughput FILE --out FILE [--chart FILE] [--meta KEY=VALUE ...]
      Prints the tables, writes the JSON results to --out and, if matplotlib imports, a bar chart to --chart.

Only the chart needs anything beyond the standard library.
"""

import argparse
import glob
import json
import math
import os
import re
import signal
import sys

TARGETS = ["direct", "pgbouncer", "gateway-passthrough", "gateway-enforced"]
GATEWAY = "gateway-passthrough"
PROXIES = ["pgbouncer", "gateway-passthrough", "gateway-enforced"]
WORKLOADS = ["select-only", "tpcb", "row-4kb"]
MODES = ["simple", "prepared"]


# ------------------------------------------------------------------------------------------------------------
# run-result
# ------------------------------------------------------------------------------------------------------------
def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (the smallest value with at least p% at or below it)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


def read_latencies_us(log_prefix):
    """Transaction latencies (microseconds) from pgbench --log files PREFIX.<pid>[.<thread>].

    Line format (PostgreSQL 15): client_id transaction_no time script_no time_epoch time_us [lag] [retries].
    A failed transaction has a word instead of a number in the time field; it is counted, not timed.
    """
    latencies, failed, files = [], 0, sorted(glob.glob(glob.escape(log_prefix) + ".*"))
    for path in files:
        with open(path, encoding="ascii", errors="replace") as f:
            for line in f:
                parts = line.split()
                if len(parts) < 3:
                    continue
                try:
                    latencies.append(int(parts[2]))
                except ValueError:
                    failed += 1
    latencies.sort()
    return latencies, failed, files


def cmd_run_result(args):
    with open(args.pgbench_output, encoding="utf-8", errors="replace") as f:
        out = f.read()
    row = {
        "target": args.target, "workload": args.workload, "mode": args.mode, "clients": args.clients,
        "tps": None, "p50_ms": None, "p99_ms": None,
        "duration_s": args.duration, "transactions": 0, "failed_transactions": None, "error": None,
    }
    m = re.search(r"^tps = ([0-9.]+)", out, re.M)
    if m:
        row["tps"] = round(float(m.group(1)), 1)
    m = re.search(r"number of failed transactions: (\d+)", out)
    if m:
        row["failed_transactions"] = int(m.group(1))
    latencies, failed_in_log, files = read_latencies_us(args.log_prefix)
    row["transactions"] = len(latencies)
    if row["failed_transactions"] is None:
        row["failed_transactions"] = failed_in_log
    if latencies:
        row["p50_ms"] = round(percentile(latencies, 50) / 1000.0, 3)
        row["p99_ms"] = round(percentile(latencies, 99) / 1000.0, 3)
    if row["tps"] is None or not latencies:
        tail = " | ".join(l for l in out.strip().splitlines()[-4:])
        row["error"] = "pgbench produced no result" + (f": {tail}" if tail else "")
    elif row["failed_transactions"]:
        row["error"] = f"{row['failed_transactions']} failed transactions"
    if not args.keep_logs:
        for path in files:
            os.remove(path)
    emit(row, args.append)
    v = lambda k, f: "-" if row[k] is None else format(row[k], f)
    print(f"  {row['target']:<20} tps {v('tps', '.0f'):>8}   p50 {v('p50_ms', '.3f'):>7} ms   "
          f"p99 {v('p99_ms', '.3f'):>7} ms" + (f"   ERROR: {row['error']}" if row["error"] else ""))


def emit(row, append_to):
    """Appends the row to a JSON-lines file, or prints it when there is none."""
    if append_to:
        with open(append_to, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    else:
        print(json.dumps(row))


def cmd_throughput_result(args):
    seconds = args.millis / 1000.0
    row = {
        "target": args.target, "workload": "select-rows", "masking": "none (pass-through)",
        "rows": args.rows, "seconds": round(seconds, 3),
        "rows_per_s": round(args.rows / seconds) if seconds > 0 else None,
        "peak_rss_mb": round(args.peak_rss_kb / 1024.0, 1) if args.peak_rss_kb else None,
        "peak_heap_mb": round(args.peak_heap_mb, 1) if args.peak_heap_mb else None,
        "error": args.error or None,
    }
    emit(row, args.append)
    if row["error"]:
        print(f"  {row['target']:<20} FAILED: {row['error']}")
    else:
        extra = f", peak RSS {row['peak_rss_mb']:.0f} MB" if row["peak_rss_mb"] else ""
        extra += f", peak heap {row['peak_heap_mb']:.0f} MB" if row["peak_heap_mb"] else ""
        print(f"  {row['target']:<20} {row['rows_per_s']:>12,} rows/s ({row['rows']:,} rows in {seconds:.2f} s{extra})")


UNIT_MB = {"K": 1 / 1024.0, "M": 1.0, "G": 1024.0}


def cmd_heap_peak(args):
    """Peak heap in use (MB) during a window: the largest 'before' size of any GC in the unified GC log after
    --from-line, and the largest S0U+S1U+EU+OU of jstat -gc samples. Prints 0 when neither has data."""
    peak = 0.0
    if args.gc_log and os.path.exists(args.gc_log):
        pattern = re.compile(r"(\d+(?:\.\d+)?)([KMG])->\d+(?:\.\d+)?[KMG]\(")
        with open(args.gc_log, encoding="utf-8", errors="replace") as f:
            for i, line in enumerate(f):
                if i < args.from_line:
                    continue
                m = pattern.search(line)
                if m:
                    peak = max(peak, float(m.group(1)) * UNIT_MB[m.group(2)])
    if args.jstat and os.path.exists(args.jstat):
        header = None
        with open(args.jstat, encoding="utf-8", errors="replace") as f:
            for line in f:
                cols = line.split()
                if "EU" in cols and "OU" in cols:
                    header = cols
                    continue
                if header and len(cols) == len(header):
                    try:
                        kb = sum(float(cols[header.index(c)]) for c in ("S0U", "S1U", "EU", "OU") if c in header)
                    except ValueError:
                        continue
                    peak = max(peak, kb / 1024.0)
    print(f"{peak:.1f}")


# ------------------------------------------------------------------------------------------------------------
# report
# ------------------------------------------------------------------------------------------------------------
def read_jsonl(path):
    rows = []
    if path and os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    rows.append(json.loads(line))
    return rows


def fmt(value, spec, width):
    if value is None:
        return "-".rjust(width)
    return format(value, spec).rjust(width)


def ratio(a, b):
    if a is None or b is None or b == 0:
        return None
    return a / b


def cell_order(row):
    return (WORKLOADS.index(row["workload"]) if row["workload"] in WORKLOADS else 99,
            MODES.index(row["mode"]) if row["mode"] in MODES else 99, row["clients"])


def print_main_table(cells, targets):
    head1 = f"{'workload':<12} {'mode':<8} {'c':>2} |"
    head2 = f"{'':<12} {'':<8} {'':>2} |"
    for t in targets:
        head1 += f" {t:^25} |"
        head2 += f" {'tps':>9} {'p50 ms':>7} {'p99 ms':>7} |"
    has_gw = GATEWAY in targets
    if has_gw and "direct" in targets:
        head1 += f" {'gw/':>7}"
        head2 += f" {'direct':>7}"
    if has_gw and "pgbouncer" in targets:
        head1 += f" {'gw/':>7}"
        head2 += f" {'pgbncr':>7}"
    print(head1)
    print(head2)
    print("-" * len(head2))
    for key in sorted(cells, key=lambda k: cell_order({"workload": k[0], "mode": k[1], "clients": k[2]})):
        by_target = cells[key]
        line = f"{key[0]:<12} {key[1]:<8} {key[2]:>2} |"
        for t in targets:
            r = by_target.get(t)
            if r is None or r.get("tps") is None:
                line += f" {'FAILED' if r else 'n/a':>25} |"
            else:
                line += f" {fmt(r['tps'], '.0f', 9)} {fmt(r['p50_ms'], '.3f', 7)} {fmt(r['p99_ms'], '.3f', 7)} |"
        gw = (by_target.get(GATEWAY) or {}).get("tps")
        if has_gw and "direct" in targets:
            line += f" {fmt(ratio(gw, (by_target.get('direct') or {}).get('tps')), '.2f', 7)}"
        if has_gw and "pgbouncer" in targets:
            line += f" {fmt(ratio(gw, (by_target.get('pgbouncer') or {}).get('tps')), '.2f', 7)}"
        print(line)


def print_added_latency(cells, targets):
    proxies = [t for t in targets if t in PROXIES]
    if "direct" not in targets or not proxies:
        return
    rows = [k for k in cells if k[2] == 1]
    if not rows:
        return
    print()
    print("p50 latency each proxy ADDS over direct at -c 1 (microseconds):")
    print(f"{'workload':<12} {'mode':<8} | " + " ".join(f"{p:>20}" for p in proxies))
    for key in sorted(rows, key=lambda k: cell_order({"workload": k[0], "mode": k[1], "clients": k[2]})):
        direct = (cells[key].get("direct") or {}).get("p50_ms")
        parts = []
        for p in proxies:
            v = (cells[key].get(p) or {}).get("p50_ms")
            added = None if v is None or direct is None else (v - direct) * 1000.0
            parts.append(fmt(added, "+.0f", 20))
        print(f"{key[0]:<12} {key[1]:<8} | " + " ".join(parts))


def print_throughput(rows):
    if not rows:
        return
    print()
    n = rows[0]["rows"]
    print(f"Row throughput, pass-through (no masking yet): SELECT of {n:,} rows "
          "(id, email, card, note) streamed by psql with FETCH_COUNT=10000:")
    print(f"{'target':<20} {'rows/s':>12} {'seconds':>8} {'vs direct':>9} {'peak RSS':>10} {'peak heap':>10}")
    direct = next((r.get("rows_per_s") for r in rows if r["target"] == "direct"), None)
    for r in rows:
        if r.get("error"):
            print(f"{r['target']:<20} FAILED: {r['error']}")
            continue
        rss = f"{r['peak_rss_mb']:.0f} MB" if r.get("peak_rss_mb") else "-"
        heap = f"{r['peak_heap_mb']:.0f} MB" if r.get("peak_heap_mb") else "-"
        print(f"{r['target']:<20} {fmt(r['rows_per_s'], ',.0f', 12)} {fmt(r['seconds'], '.2f', 8)} "
              f"{fmt(ratio(r['rows_per_s'], direct), '.2f', 9)} {rss:>10} {heap:>10}")


def issue7_checks(cells, throughput):
    """The acceptance targets of issue #7. They are meant for gateway-enforced; until it exists they are
    evaluated against gateway-passthrough, as an upper bound of what enforcement can reach."""
    def tps(workload, mode, clients, target):
        return ((cells.get((workload, mode, clients)) or {}).get(target) or {}).get("tps")

    def p50(workload, mode, clients, target):
        return ((cells.get((workload, mode, clients)) or {}).get(target) or {}).get("p50_ms")

    checks = []
    gw = GATEWAY

    def add(name, value, goal, ok):
        if isinstance(value, float):
            value = round(value, 3)
        checks.append({"target": name, "measured": value, "goal": goal,
                       "status": "n/a" if ok is None else ("met" if ok else "NOT met")})

    r = ratio(tps("select-only", "prepared", 8, gw), tps("select-only", "prepared", 8, "pgbouncer"))
    add("-S -M prepared -c 8: gateway / PgBouncer TPS", r, ">= 1.20", None if r is None else r >= 1.2)
    r = ratio(tps("select-only", "prepared", 8, gw), tps("select-only", "prepared", 8, "direct"))
    add("-S -M prepared -c 8: gateway / direct TPS", r, ">= 0.65", None if r is None else r >= 0.65)
    r = ratio(tps("select-only", "simple", 8, gw), tps("select-only", "simple", 8, "pgbouncer"))
    add("-S -M simple -c 8: gateway / PgBouncer TPS", r, ">= 1.10", None if r is None else r >= 1.1)
    for mode in MODES:
        d = p50("select-only", mode, 1, "direct")
        g, b = p50("select-only", mode, 1, gw), p50("select-only", mode, 1, "pgbouncer")
        if None in (d, g, b):
            add(f"-S -M {mode} -c 1: added p50, gateway vs PgBouncer (us)", None, "gateway <= PgBouncer", None)
        else:
            ga, ba = (g - d) * 1000, (b - d) * 1000
            add(f"-S -M {mode} -c 1: added p50, gateway vs PgBouncer (us)", f"{ga:+.0f} vs {ba:+.0f}",
                "gateway <= PgBouncer", ga <= ba)
    direct = next((t.get("rows_per_s") for t in throughput if t["target"] == "direct"), None)
    gwt = next((t for t in throughput if t["target"] == gw), None)
    r = ratio((gwt or {}).get("rows_per_s"), direct)
    add("row SELECT: gateway / direct rows/s (masking not in yet)", r, ">= 0.80", None if r is None else r >= 0.8)
    heap = (gwt or {}).get("peak_heap_mb")
    add("row SELECT: gateway peak heap used (MB)", heap, "< 256", None if heap is None else heap < 256)
    return checks


def print_checks(checks):
    print()
    print("Issue #7 targets (meant for gateway-enforced; checked against gateway-passthrough until it exists):")
    for c in checks:
        v = c["measured"]
        shown = "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
        print(f"  {c['status']:<8} {c['target']:<58} {shown:>14}   goal {c['goal']}")


def write_chart(path, cells, targets, throughput):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no chart: matplotlib is not importable by {sys.executable})", file=sys.stderr)
        return False
    keys = sorted(cells, key=lambda k: cell_order({"workload": k[0], "mode": k[1], "clients": k[2]}))
    labels = [f"{w}\n{m} c{c}" for (w, m, c) in keys]
    shown = [t for t in targets if any(cells[k].get(t) for k in keys)]
    panels = 3 if throughput else 2
    fig, axes = plt.subplots(panels, 1, figsize=(max(8, 1.6 * len(keys) + 2), 4.2 * panels))
    width = 0.8 / max(1, len(shown))
    colors = {"direct": "#4C72B0", "pgbouncer": "#DD8452", "gateway-passthrough": "#55A868",
              "gateway-enforced": "#C44E52"}
    for i, t in enumerate(shown):
        xs = [j + (i - (len(shown) - 1) / 2) * width for j in range(len(keys))]
        tps = [((cells[k].get(t) or {}).get("tps") or 0) for k in keys]
        p50 = [((cells[k].get(t) or {}).get("p50_ms") or 0) for k in keys]
        p99 = [((cells[k].get(t) or {}).get("p99_ms") or 0) for k in keys]
        axes[0].bar(xs, tps, width, label=t, color=colors.get(t))
        axes[1].bar(xs, p50, width, label=f"{t} p50", color=colors.get(t))
        axes[1].scatter(xs, p99, marker="_", s=120, color="black", zorder=3,
                        label="p99" if i == len(shown) - 1 else None)
    for ax, title, unit in ((axes[0], "Throughput", "transactions/s"),
                            (axes[1], "Latency (bar p50, dash p99)", "ms")):
        ax.set_xticks(range(len(keys)))
        ax.set_xticklabels(labels, fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(unit)
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8)
    if throughput:
        ok = [t for t in throughput if t.get("rows_per_s")]
        axes[2].bar([t["target"] for t in ok], [t["rows_per_s"] for t in ok],
                    color=[colors.get(t["target"]) for t in ok])
        axes[2].set_title(f"Row throughput, SELECT of {throughput[0]['rows']:,} rows (pass-through, no masking)")
        axes[2].set_ylabel("rows/s")
        axes[2].grid(axis="y", alpha=0.3)
    fig.suptitle("Portcullis benchmark (client TLS on every target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def cmd_report(args):
    raw = read_jsonl(args.raw)
    throughput = read_jsonl(args.throughput)
    meta = {}
    for kv in args.meta or []:
        k, _, v = kv.partition("=")
        meta[k] = v
    targets = [t for t in (args.targets.split(",") if args.targets else TARGETS) if t]
    measured_targets = [t for t in targets if t != "gateway-enforced" or any(r["target"] == t for r in raw)]

    cells = {}
    for r in raw:
        cells.setdefault((r["workload"], r["mode"], r["clients"]), {})[r["target"]] = r

    print()
    if meta.get("title"):
        print(meta["title"])
    if cells:
        print_main_table(cells, measured_targets)
        print_added_latency(cells, measured_targets)
    print_throughput(throughput)
    checks = issue7_checks(cells, throughput)
    print_checks(checks)
    unavailable = []
    if "gateway-enforced" in targets and "gateway-enforced" not in measured_targets:
        reason = meta.get("enforced_reason", "enforcement is not in the gateway yet")
        unavailable.append({"target": "gateway-enforced", "reason": reason})
        print()
        print(f"gateway-enforced: not available yet ({reason})")
    failures = [r for r in raw + throughput if r.get("error")]
    for r in failures:
        print(f"error: {r['target']} {r.get('workload')} {r.get('mode', '')} c{r.get('clients', '')}: {r['error']}",
              file=sys.stderr)

    result = {
        "meta": meta,
        "rows": [{k: r[k] for k in ("target", "workload", "mode", "clients", "tps", "p50_ms", "p99_ms")}
                 | {k: r[k] for k in ("duration_s", "transactions", "failed_transactions", "error") if r.get(k) is not None}
                 for r in sorted(raw, key=lambda r: (cell_order(r), TARGETS.index(r["target"])
                                                     if r["target"] in TARGETS else 99))],
        "row_throughput": throughput,
        "issue7_targets": checks,
        "unavailable": unavailable,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=2)
        f.write("\n")
    print()
    print(f"results: {args.out}")
    if args.chart and write_chart(args.chart, cells, measured_targets, throughput):
        print(f"chart:   {args.chart}")
    return 1 if failures else 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)

    r = sub.add_parser("run-result")
    r.add_argument("--target", required=True)
    r.add_argument("--workload", required=True)
    r.add_argument("--mode", required=True)
    r.add_argument("--clients", type=int, required=True)
    r.add_argument("--duration", type=int, required=True)
    r.add_argument("--pgbench-output", required=True)
    r.add_argument("--log-prefix", required=True)
    r.add_argument("--keep-logs", action="store_true", help="keep the pgbench logs (deleted once read by default)")
    r.add_argument("--append", help="JSON-lines file to append the row to (a summary goes to stdout)")
    r.set_defaults(func=cmd_run_result)

    t = sub.add_parser("throughput-result")
    t.add_argument("--target", required=True)
    t.add_argument("--rows", type=int, required=True)
    t.add_argument("--millis", type=float, required=True)
    t.add_argument("--peak-rss-kb", type=int, default=0)
    t.add_argument("--peak-heap-mb", type=float, default=0)
    t.add_argument("--error", default="")
    t.add_argument("--append", help="JSON-lines file to append the row to (a summary goes to stdout)")
    t.set_defaults(func=cmd_throughput_result)

    h = sub.add_parser("heap-peak")
    h.add_argument("--gc-log")
    h.add_argument("--from-line", type=int, default=0)
    h.add_argument("--jstat")
    h.set_defaults(func=cmd_heap_peak)

    rep = sub.add_parser("report")
    rep.add_argument("--raw", required=True)
    rep.add_argument("--throughput")
    rep.add_argument("--out", required=True)
    rep.add_argument("--chart")
    rep.add_argument("--targets")
    rep.add_argument("--meta", action="append")
    rep.set_defaults(func=cmd_report)

    args = p.parse_args()
    sys.exit(args.func(args) or 0)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Die of SIGINT rather than exit normally, so the calling bash stops too (it only stops for a child that
        # was killed by the signal).
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGINT)
