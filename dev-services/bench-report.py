#!/usr/bin/env python3
"""Numbers for dev-services/bench: one pgbench run -> one JSON line, and all lines -> table, JSON and PNG.

  bench-report.py run-result --target T --workload W --mode M --clients C --duration S \
                             --pgbench-output FILE --log-prefix PREFIX [--cpu-before F --cpu-after F]
                             [--keep-logs] [--append FILE]
      Reads pgbench's stdout (TPS) and its per-transaction logs PREFIX.* (latency); prints one JSON line, or with
      --append FILE appends it there and prints a one-line summary. With two cpu-snapshots taken while pgbench ran,
      also the CPU time each process group spent per transaction.
  bench-report.py cpu-snapshot --out FILE [--gateway NAME=PORT ...]
      CPU time used so far by every process, grouped: pgbench, postgres (server and backends), pgbouncer, each bench
      gateway (by its listener port), kafka, opa, other; and the machine's busy time. From /proc, in clock ticks.
  bench-report.py throughput-result --target T --rows N --millis MS [--identity I] [--peak-rss-kb K] [--peak-heap-mb H]
      Prints one JSON line for the row-throughput scenario.
  bench-report.py policy-delta --target T --label L --before FILE --after FILE [--workload W --mode M --clients C]
                               [--pgbench-output FILE] [--append FILE]
      From two scrapes of a gateway's /q/metrics (Prometheus text), what its decision path did in between: OPA
      evaluations and their latency, shared-cache and session-memo hits, the hit ratio; one JSON line.
  bench-report.py heap-peak --gc-log FILE --from-line N [--jstat FILE]
      Prints the peak heap in use (MB) seen in a JVM's GC log after line N and in jstat -gc samples.
  bench-report.py report --raw FILE --throughput FILE [--policy FILE] [--metrics TARGET=FILE ...] --out FILE
                         [--chart FILE] [--meta KEY=VALUE ...]
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
GATEWAYS = ["gateway-passthrough", "gateway-enforced"]
PROXIES = ["pgbouncer"] + GATEWAYS
SHORT = {"direct": "dir", "pgbouncer": "pgb", "gateway-passthrough": "pass", "gateway-enforced": "enf"}
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
    # A client that gets an error other than a serialization failure or deadlock (a policy denial, say) is aborted;
    # pgbench 15 does not count that as a failed transaction, so look for it.
    aborted = re.findall(r"client \d+ (?:script \d+ )?aborted[^\n]*", out)
    if row["tps"] is None or not latencies:
        tail = " | ".join(l for l in out.strip().splitlines()[-4:])
        row["error"] = "pgbench produced no result" + (f": {tail}" if tail else "")
    elif aborted:
        row["error"] = f"{len(aborted)} client(s) aborted: {aborted[0][:200]}"
    elif row["failed_transactions"]:
        row["error"] = f"{row['failed_transactions']} failed transactions"
    if args.cpu_before and args.cpu_after and row["tps"]:
        try:
            row["cpu_us_per_txn"] = cpu_per_transaction(args.cpu_before, args.cpu_after, row["tps"])
        except (OSError, ValueError, KeyError) as e:
            print(f"  (no CPU profile: {e})", file=sys.stderr)
    if not args.keep_logs:
        for path in files:
            os.remove(path)
    emit(row, args.append)
    v = lambda k, f: "-" if row[k] is None else format(row[k], f)
    print(f"  {row['target']:<20} tps {v('tps', '.0f'):>8}   p50 {v('p50_ms', '.3f'):>7} ms   "
          f"p99 {v('p99_ms', '.3f'):>7} ms" + (f"   ERROR: {row['error']}" if row["error"] else ""))


# ------------------------------------------------------------------------------------------------------------
# cpu-snapshot: where the cores go, per process group (a profile across processes, to explain a ratio)
# ------------------------------------------------------------------------------------------------------------
CPU_GROUPS = ["pgbench", "postgres", "pgbouncer", "gateway-passthrough", "gateway-enforced", "kafka", "opa", "other"]


def process_group(comm, cmdline, gateways):
    if "quarkus-run.jar" in cmdline:
        for name, port in gateways.items():
            if f"-Dportcullis.postgres.port={port} " in cmdline + " ":
                return name
        return "other"
    if comm == "pgbench":
        return "pgbench"
    if comm == "postgres" or cmdline.startswith("postgres:"):
        return "postgres"
    if comm == "pgbouncer":
        return "pgbouncer"
    if " kafka.Kafka " in cmdline + " ":   # the broker's main class
        return "kafka"
    if comm == "opa":
        return "opa"
    return "other"


# A gateway's threads by what they do (the kernel keeps the first 15 characters of a Java thread's name).
THREAD_GROUPS = [
    ("recording", ("portcullis-reco",)),           # the SessionRecorder's shipper: events to the journal and Kafka
    ("kafka-sender", ("kafka-producer-",)),        # Kafka's producer network thread
    ("event-loop", ("vert.x-eventloo", "portcullis-pg", "nioEventLoopGr", "epollEventLoop")),
    ("jit", ("C1 CompilerThre", "C2 CompilerThre")),
    ("gc", ("GC Thread", "G1 ", "VM Thread")),
]
THREAD_GROUP_NAMES = [g for g, _ in THREAD_GROUPS] + ["other"]


def thread_group(name):
    for group, prefixes in THREAD_GROUPS:
        if name.startswith(prefixes):
            return group
    return "other"


def gateway_threads(pid):
    """Per thread group of one JVM: CPU ticks and voluntary/involuntary context switches so far, summed over its
    threads (/proc/PID/task/*/stat and status); and the thread names seen per group, to check the grouping."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return out
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            with open(f"/proc/{pid}/task/{tid}/status", encoding="utf-8", errors="replace") as f:
                status = f.read()
        except OSError:
            continue   # the thread ended meanwhile
        name = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        switches = dict(line.split(":\t", 1) for line in status.splitlines() if line.endswith(tuple("0123456789"))
                        and "ctxt_switches" in line)
        key = f"{tid}:{thread_group(name)}"
        out[key] = [int(fields[11]) + int(fields[12]), int(switches.get("voluntary_ctxt_switches", 0)),
                    int(switches.get("nonvoluntary_ctxt_switches", 0)), int(fields[12])]
    return out


def thread_costs(before, after, transactions, per_tick_us):
    """Per thread group: CPU microseconds (of which in the kernel), voluntary and involuntary context switches per
    transaction."""
    sums = {}
    for key, now in after.items():
        b = before.get(key, [0, 0, 0, 0])
        s = sums.setdefault(key.split(":", 1)[1], [0, 0, 0, 0])
        for i in range(4):
            s[i] += max(now[i] - b[i], 0)
    sums["all"] = [sum(v[i] for v in sums.values()) for i in range(4)]
    return {g: {"cpu_us": round(v[0] * per_tick_us / transactions, 1),
                "sys_us": round(v[3] * per_tick_us / transactions, 1),
                "vcsw": round(v[1] / transactions, 3),
                "ivcsw": round(v[2] / transactions, 3)} for g, v in sums.items()}


def cmd_cpu_snapshot(args):
    import time
    gateways = dict(kv.split("=", 1) for kv in (args.gateway or []))
    ticks = {}
    threads = {}
    procs = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat", encoding="utf-8", errors="replace") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode("utf-8", "replace")
        except OSError:
            continue   # it ended meanwhile
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()
        procs[pid] = (comm, cmdline, fields[1], int(fields[11]) + int(fields[12]))
    # The stack's services of another checkout on the same machine (another engineer's PostgreSQL, Kafka or OPA)
    # are not this run's helpers: they count as other. Ours name this checkout in their command line (a PostgreSQL
    # backend: its parent, the postmaster, does).
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + "/"
    ours = lambda cmdline: root in cmdline
    for pid, (comm, cmdline, ppid, used) in procs.items():
        group = process_group(comm, cmdline, gateways)
        if group in ("kafka", "opa") and not ours(cmdline):
            group = "other"
        elif group == "postgres" and not (ours(cmdline) or ours(procs.get(ppid, ("", "", "", 0))[1])):
            group = "other"
        ticks[pid] = [group, used]
        if group in gateways:
            threads[group] = gateway_threads(pid)
    with open("/proc/stat", encoding="utf-8") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    busy = sum(cpu) - cpu[3] - cpu[4]   # all but idle and iowait
    with open(args.out, "w", encoding="utf-8") as f:
        json.dump({"t": time.monotonic(), "hz": os.sysconf("SC_CLK_TCK"), "cpus": os.cpu_count(),
                   "busy": busy, "ticks": ticks, "threads": threads}, f)


def cpu_per_transaction(before_path, after_path, tps):
    """Microseconds of CPU per transaction by process group between two snapshots, and how busy the machine was."""
    with open(before_path, encoding="utf-8") as f:
        before = json.load(f)
    with open(after_path, encoding="utf-8") as f:
        after = json.load(f)
    seconds = after["t"] - before["t"]
    if not tps or seconds <= 0:
        return None
    per_tick_us = 1e6 / after["hz"]
    transactions = tps * seconds
    groups = {}
    for pid, (group, t) in after["ticks"].items():
        started = before["ticks"].get(pid)
        used = t - (started[1] if started and started[0] == group else 0)
        groups[group] = groups.get(group, 0) + max(used, 0)
    out = {g: round(groups.get(g, 0) * per_tick_us / transactions, 1) for g in CPU_GROUPS if groups.get(g)}
    out["total"] = round(sum(groups.values()) * per_tick_us / transactions, 1)
    for gateway, threads in after.get("threads", {}).items():
        out[f"{gateway}_threads"] = thread_costs(before.get("threads", {}).get(gateway, {}), threads, transactions,
                                                 per_tick_us)
    out["machine_busy_pct"] = round(100.0 * (after["busy"] - before["busy"]) / (seconds * after["hz"] * after["cpus"]), 1)
    out["window_s"] = round(seconds, 1)
    return out


def emit(row, append_to):
    """Appends the row to a JSON-lines file, or prints it when there is none."""
    if isinstance(row.get("opa_histogram"), dict):   # float bounds (and +Inf) as Prometheus writes them
        row = dict(row, opa_histogram={("+Inf" if math.isinf(k) else repr(k)): v for k, v in row["opa_histogram"].items()})
    if append_to:
        with open(append_to, "a", encoding="utf-8") as f:
            f.write(json.dumps(row) + "\n")
    else:
        print(json.dumps(row))


def cmd_throughput_result(args):
    seconds = args.millis / 1000.0
    row = {
        "target": args.target, "workload": "select-rows", "masking": "none (not in the gateway yet)",
        "identity": args.identity or None, "rows": args.rows, "seconds": round(seconds, 3),
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
# policy-delta: the gateway's decision path, from its Prometheus metrics (Micrometer names, /q/metrics)
# ------------------------------------------------------------------------------------------------------------
DECISION_TIMER = "portcullis_policy_decision_seconds"      # Timer portcullis.policy.decision, tag source=opa|cache
MEMO_COUNTER = "portcullis_policy_session_memo_hits_total"  # Counter portcullis.policy.session.memo.hits
EVENTS_JOURNALED = "portcullis_recording_events_journaled"  # Gauge: session events written to the journal
JOURNAL_APPENDED = "portcullis_recording_journal_appended_bytes"  # Gauge: bytes appended to the journal, with headers
KAFKA_OUT_BYTES = "kafka_producer_outgoing_byte_total"      # the producer's bytes sent to brokers (compressed)
KAFKA_RECORDS = "kafka_producer_record_send_total"          # records the producer sent
# Statements per transaction of each workload, and session events per statement: a Query is a request and a result
# event; an Execute of a prepared statement a result (its Parse, a request, comes once per connection).
STATEMENTS_PER_TXN = {"select-only": 1, "tpcb": 7, "row-4kb": 1}
EVENTS_PER_STATEMENT = {"simple": 2, "prepared": 1}
CACHE_GETS = "cache_gets_total"                              # Caffeine's, tag cache=portcullis.decisions
DECISION_CACHE = "portcullis.decisions"
SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s+(\S+)")
LABEL = re.compile(r'([A-Za-z_][A-Za-z0-9_]*)="((?:[^"\\]|\\.)*)"')


def read_prometheus(path):
    """[(name, {label: value}, float)] of a Prometheus text exposition; [] when the file is missing or empty."""
    samples = []
    if not path or not os.path.exists(path):
        return samples
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            if line.startswith("#"):
                continue
            m = SAMPLE.match(line.strip())
            if not m:
                continue
            try:
                value = float(m.group(3))
            except ValueError:
                continue
            samples.append((m.group(1), dict(LABEL.findall(m.group(2) or "")), value))
    return samples


def metric(samples, name, **labels):
    """Sum of the samples of NAME whose labels include LABELS; None when there is none (or only NaN)."""
    values = [v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items())]
    values = [v for v in values if not math.isnan(v)]
    return sum(values) if values else None


def delta(before, after, name, **labels):
    a = metric(after, name, **labels)
    if a is None:
        return None
    return a - (metric(before, name, **labels) or 0.0)


def ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 3)


def histogram(samples, name, **labels):
    """{upper bound: cumulative count} of histogram NAME (its _bucket series) for LABELS; {} when it has none."""
    out = {}
    for n, l, v in samples:
        if n == name + "_bucket" and "le" in l and all(l.get(k) == w for k, w in labels.items()):
            out[float(l["le"])] = out.get(float(l["le"]), 0.0) + v   # float("+Inf") is inf
    return out


def histogram_quantile(q, buckets):
    """Like PromQL's histogram_quantile: linear interpolation inside the bucket that holds rank q; the highest
    finite bound when the rank falls into +Inf. None for an empty histogram."""
    if not buckets:
        return None
    bounds = sorted(buckets)
    total = buckets[bounds[-1]]
    if total <= 0:
        return None
    rank, lower, lower_count = q * total, 0.0, 0.0
    for le in bounds:
        count = buckets[le]
        if count >= rank:
            if math.isinf(le):
                return lower
            if count == lower_count:
                return le
            return lower + (le - lower) * (rank - lower_count) / (count - lower_count)
        lower, lower_count = le, count
    return lower


def opa_quantiles(row, buckets, summary_after):
    """Sets opa_p50_ms / opa_p99_ms: from the histogram's buckets when the gateway publishes one (exact for the
    interval, up to the bucket resolution), else from a summary's client-side quantiles (a decaying window of
    about the last 2 minutes at the time of the scrape, not the interval)."""
    if buckets and buckets.get(math.inf, max(buckets.values())) > 0:
        row["opa_p50_ms"] = ms(histogram_quantile(0.5, buckets))
        row["opa_p99_ms"] = ms(histogram_quantile(0.99, buckets))
        row["opa_quantiles_from"] = "histogram buckets of the interval, interpolated"
    elif summary_after is not None and metric(summary_after, DECISION_TIMER, source="opa", quantile="0.5") is not None:
        row["opa_p50_ms"] = ms(metric(summary_after, DECISION_TIMER, source="opa", quantile="0.5"))
        row["opa_p99_ms"] = ms(metric(summary_after, DECISION_TIMER, source="opa", quantile="0.99"))
        row["opa_quantiles_from"] = "summary quantiles, decaying window of about 2 minutes at the end of the interval"
    else:
        row["opa_p50_ms"] = row["opa_p99_ms"] = row["opa_quantiles_from"] = None


def policy_counts(before, after):
    """What the decision path did between two scrapes (before may be [] for totals since startup)."""
    opa = delta(before, after, DECISION_TIMER + "_count", source="opa")
    opa_sum = delta(before, after, DECISION_TIMER + "_sum", source="opa")
    row = {
        "opa_evaluations": None if opa is None else int(round(opa)),
        "opa_mean_ms": ms(opa_sum / opa) if opa and opa_sum is not None else None,
        "cache_hits": None, "memo_hits": None,
        "caffeine_gets_hit": None, "caffeine_gets_miss": None,
    }
    b, a = histogram(before, DECISION_TIMER, source="opa"), histogram(after, DECISION_TIMER, source="opa")
    row["opa_histogram"] = {le: a[le] - b.get(le, 0.0) for le in a}
    opa_quantiles(row, row["opa_histogram"], after if opa else None)
    v = delta(before, after, DECISION_TIMER + "_count", source="cache")
    row["cache_hits"] = None if v is None else int(round(v))
    v = delta(before, after, MEMO_COUNTER)
    row["memo_hits"] = None if v is None else int(round(v))
    v = delta(before, after, EVENTS_JOURNALED)
    row["events_recorded"] = None if v is None else int(round(v))
    for key, name in (("journal_bytes", JOURNAL_APPENDED), ("kafka_bytes", KAFKA_OUT_BYTES), ("kafka_records", KAFKA_RECORDS)):
        v = delta(before, after, name)
        row[key] = None if v is None else int(round(v))
    for result in ("hit", "miss"):
        v = delta(before, after, CACHE_GETS, cache=DECISION_CACHE, result=result)
        row[f"caffeine_gets_{result}"] = None if v is None else int(round(v))
    add_ratios(row)
    return row


def add_ratios(row):
    """decisions = memo hits + cache hits + OPA evaluations; hit ratio = (memo + cache) / decisions."""
    parts = [row.get("memo_hits"), row.get("cache_hits"), row.get("opa_evaluations")]
    if None in parts:
        row["decisions"], row["hit_ratio"] = None, None
    else:
        row["decisions"] = sum(parts)
        row["hit_ratio"] = round((parts[0] + parts[1]) / row["decisions"], 4) if row["decisions"] else None
    txns = row.get("transactions")
    row["decisions_per_txn"] = round(row["decisions"] / txns, 3) if txns and row.get("decisions") is not None else None


def cmd_policy_delta(args):
    before, after = read_prometheus(args.before), read_prometheus(args.after)
    row = {"target": args.target, "label": args.label, "workload": args.workload, "mode": args.mode,
           "clients": args.clients, "transactions": None}
    if args.pgbench_output and os.path.exists(args.pgbench_output):
        with open(args.pgbench_output, encoding="utf-8", errors="replace") as f:
            m = re.search(r"number of transactions actually processed: (\d+)", f.read())
        if m:
            row["transactions"] = int(m.group(1))
    if not after:
        row["error"] = "no metrics scraped"
    row.update(policy_counts(before, after))
    add_ratios(row)
    emit(row, args.append)


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


def sorted_cells(cells):
    return sorted(cells, key=lambda k: cell_order({"workload": k[0], "mode": k[1], "clients": k[2]}))


def print_main_table(cells, targets):
    head1 = f"{'workload':<12} {'mode':<8} {'c':>2} |"
    head2 = f"{'':<12} {'':<8} {'':>2} |"
    for t in targets:
        head1 += f" {t:^25} |"
        head2 += f" {'tps':>9} {'p50 ms':>7} {'p99 ms':>7} |"
    print(head1)
    print(head2)
    print("-" * len(head2))
    for key in sorted_cells(cells):
        by_target = cells[key]
        line = f"{key[0]:<12} {key[1]:<8} {key[2]:>2} |"
        for t in targets:
            r = by_target.get(t)
            if r is None or r.get("tps") is None:
                line += f" {'FAILED' if r else 'n/a':>25} |"
            else:
                line += f" {fmt(r['tps'], '.0f', 9)} {fmt(r['p50_ms'], '.3f', 7)} {fmt(r['p99_ms'], '.3f', 7)} |"
        print(line)


def ratio_pairs(targets):
    """(numerator, denominator) of the TPS ratios worth showing: each gateway over direct and PgBouncer, and the
    policy gateway over the pass-through one (what the decisions cost)."""
    pairs = []
    for g in (t for t in targets if t in GATEWAYS):
        pairs += [(g, base) for base in ("direct", "pgbouncer") if base in targets]
        if g != "gateway-passthrough" and "gateway-passthrough" in targets:
            pairs.append((g, "gateway-passthrough"))
    return pairs


def print_ratios(cells, targets):
    pairs = ratio_pairs(targets)
    if not pairs:
        return
    print()
    print("TPS ratios (dir = direct, pgb = pgbouncer, pass = gateway-passthrough, enf = gateway-enforced):")
    print(f"{'workload':<12} {'mode':<8} {'c':>2} |" + "".join(f" {SHORT[a] + '/' + SHORT[b]:>9}" for a, b in pairs))
    for key in sorted_cells(cells):
        by_target = cells[key]
        line = f"{key[0]:<12} {key[1]:<8} {key[2]:>2} |"
        for a, b in pairs:
            line += f" {fmt(ratio((by_target.get(a) or {}).get('tps'), (by_target.get(b) or {}).get('tps')), '.2f', 9)}"
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
    for key in sorted_cells(rows):
        direct = (cells[key].get("direct") or {}).get("p50_ms")
        parts = []
        for p in proxies:
            v = (cells[key].get(p) or {}).get("p50_ms")
            added = None if v is None or direct is None else (v - direct) * 1000.0
            parts.append(fmt(added, "+.0f", 20))
        print(f"{key[0]:<12} {key[1]:<8} | " + " ".join(parts))


def print_cpu(cells, targets):
    """Where the cores went in each cell: microseconds of CPU per transaction by process group."""
    keys = [k for k in sorted_cells(list(cells)) if any((cells[k].get(t) or {}).get("cpu_us_per_txn") for t in targets)]
    if not keys:
        return
    groups = ["pgbench", "postgres", "pgbouncer", "gateway", "kafka", "opa", "other"]
    print()
    print("CPU per transaction by process (microseconds, from /proc inside each run; 'gateway' = the target's instance):")
    print(f"{'workload':<12} {'mode':<8} {'c':>2} {'target':<20} | " + " ".join(f"{g:>9}" for g in groups)
          + f" | {'total':>7} {'busy':>5}")
    for key in keys:
        for t in targets:
            cpu = (cells[key].get(t) or {}).get("cpu_us_per_txn")
            if not cpu:
                continue
            vals = [(cpu.get(t) if t in GATEWAYS else None) if g == "gateway" else cpu.get(g) for g in groups]
            print(f"{key[0]:<12} {key[1]:<8} {key[2]:>2} {t:<20} | " + " ".join(fmt(v, ".1f", 9) for v in vals)
                  + f" | {fmt(cpu.get('total'), '.1f', 7)} {fmt(cpu.get('machine_busy_pct'), '.0f', 4)}%")


def print_threads(cells, targets):
    """Inside each gateway: CPU per transaction and context switches per transaction by thread group."""
    gateways = [t for t in targets if t in GATEWAYS]
    keys = [k for k in sorted_cells(list(cells))
            if any(((cells[k].get(t) or {}).get("cpu_us_per_txn") or {}).get(f"{t}_threads") for t in gateways)]
    if not keys:
        return
    groups = THREAD_GROUP_NAMES + ["all"]
    print()
    print("Inside the gateways, per transaction by thread group (/proc/PID/task): CPU µs (of which in the kernel) /"
          " voluntary context switches:")
    print(f"{'workload':<12} {'mode':<8} {'c':>2} {'target':<20} | " + " ".join(f"{g:>21}" for g in groups))
    for key in keys:
        for t in gateways:
            threads = ((cells[key].get(t) or {}).get("cpu_us_per_txn") or {}).get(f"{t}_threads")
            if not threads:
                continue
            vals = []
            for g in groups:
                v = threads.get(g)
                vals.append(f"{'-':>21}" if not v else
                            f"{v['cpu_us']:>6.1f} ({v.get('sys_us', 0):>5.1f}) / {v['vcsw']:>5.2f}")
            print(f"{key[0]:<12} {key[1]:<8} {key[2]:>2} {t:<20} | " + " ".join(vals))


def print_throughput(rows):
    if not rows:
        return
    print()
    n = rows[0]["rows"]
    print(f"Row throughput (gateway-enforced masks email and phone): SELECT of {n:,} rows "
          "(id, email, phone, note) streamed by psql with FETCH_COUNT=10000:")
    print(f"{'target':<20} {'rows/s':>12} {'seconds':>8} {'vs direct':>9} {'peak RSS':>10} {'peak heap':>10}  as")
    direct = next((r.get("rows_per_s") for r in rows if r["target"] == "direct"), None)
    for r in rows:
        if r.get("error"):
            print(f"{r['target']:<20} FAILED: {r['error']}")
            continue
        rss = f"{r['peak_rss_mb']:.0f} MB" if r.get("peak_rss_mb") else "-"
        heap = f"{r['peak_heap_mb']:.0f} MB" if r.get("peak_heap_mb") else "-"
        reads = "" if r.get("reads", 1) == 1 else "  (fastest of %d reads: %s rows/s)" % (
            r["reads"], ", ".join(f"{x:,.0f}" for x in r["reads_rows_per_s"] if x))
        print(f"{r['target']:<20} {fmt(r['rows_per_s'], ',.0f', 12)} {fmt(r['seconds'], '.2f', 8)} "
              f"{fmt(ratio(r['rows_per_s'], direct), '.2f', 9)} {rss:>10} {heap:>10}  {r.get('identity') or '-'}{reads}")


# ------------------------------------------------------------------------------------------------------------
# Policy metrics: per measured cell (from policy-delta lines), summed per protocol mode, and instance totals
# ------------------------------------------------------------------------------------------------------------
SUMMED = ("transactions", "opa_evaluations", "cache_hits", "memo_hits", "caffeine_gets_hit", "caffeine_gets_miss")


def sum_samples(samples):
    """Adds up policy-delta rows; the OPA mean is weighted by evaluations."""
    total = {}
    for k in SUMMED:
        values = [s.get(k) for s in samples]
        total[k] = None if not values or None in values else sum(values)
    weighted = [(s["opa_mean_ms"], s["opa_evaluations"]) for s in samples
                if s.get("opa_mean_ms") is not None and s.get("opa_evaluations")]
    n = sum(w for _, w in weighted)
    total["opa_mean_ms"] = round(sum(m * w for m, w in weighted) / n, 3) if n else None
    buckets = {}
    if samples and all(s.get("opa_histogram") for s in samples):
        for smp in samples:
            for le, c in smp["opa_histogram"].items():
                buckets[float(le)] = buckets.get(float(le), 0.0) + c
    opa_quantiles(total, buckets, None)
    add_ratios(total)
    return total


def without_histogram(row):
    return None if row is None else {k: v for k, v in row.items() if k != "opa_histogram"}


def policy_metrics(samples, final_scrapes):
    """The JSON block policy_metrics: per target, the measured cells, their sums per mode and overall, the
    row-throughput query, and the instance's totals since startup as scraped after the cells."""
    result = {}
    targets = [t for t in GATEWAYS if any(s["target"] == t for s in samples) or t in final_scrapes]
    for t in targets:
        mine = [s for s in samples if s["target"] == t]
        cells = [s for s in mine if s.get("workload") in WORKLOADS]
        cells.sort(key=cell_order)
        by_mode = {m: without_histogram(sum_samples([s for s in cells if s.get("mode") == m]))
                   for m in MODES if any(s.get("mode") == m for s in cells)}
        entry = {
            "cells": [without_histogram(c) for c in cells],
            "by_mode": by_mode,
            "all_cells": without_histogram(sum_samples(cells)) if cells else None,
            "row_throughput": without_histogram(next((s for s in mine if s.get("workload") == "select-rows"), None)),
        }
        if t in final_scrapes:
            totals = without_histogram(policy_counts([], read_prometheus(final_scrapes[t])))
            totals["note"] = ("since the instance started (smoke test, preflight, JIT and per-cell warm-ups "
                              "included), scraped after the cells")
            entry["instance_totals_after_cells"] = totals
        result[t] = entry
    return result


def print_recording_bytes(pm):
    """What recording wrote per gateway-enforced cell: events, journal bytes and Kafka bytes, per transaction."""
    cells = [c for t, e in pm.items() if t == "gateway-enforced" for c in e["cells"]
             if c.get("transactions") and c.get("events_recorded")]
    if not cells:
        return
    print()
    print("Recording per transaction (gateway-enforced; journal bytes are records with their headers, uncompressed;"
          " Kafka bytes are the producer's requests to the broker, LZ4):")
    print(f"  {'run':<24} {'events/txn':>10} {'journal B/event':>15} {'journal B/txn':>13} {'Kafka B/txn':>11}"
          f" {'events/record':>13}")
    for c in cells:
        txns, events = c["transactions"], c["events_recorded"]
        per = lambda k, d: None if c.get(k) is None or not d else c[k] / d
        print(f"  {c['workload'] + ' ' + c['mode'] + ' c' + str(c['clients']):<24} {events / txns:>10.2f}"
              f" {fmt(per('journal_bytes', events), '.0f', 15)} {fmt(per('journal_bytes', txns), '.0f', 13)}"
              f" {fmt(per('kafka_bytes', txns), '.1f', 11)}"
              f" {fmt(None if not c.get('kafka_records') else events / c['kafka_records'], '.1f', 13)}")


def print_policy(pm):
    if not pm:
        return
    print()
    print("Policy decisions per gateway, measured runs only (counters of /q/metrics before and after each run):")
    print("  decisions = session-memo hits + shared-cache hits + OPA evaluations; hit ratio = (memo + cache) / decisions")
    head = (f"  {'target':<20} {'run':<24} {'txns':>8} {'dec/txn':>7} {'OPA evals':>9} {'OPA mean':>8} "
            f"{'OPA p50':>7} {'OPA p99':>7} {'cache hits':>10} {'memo hits':>10} {'hit ratio':>9}")
    print(head)
    sources = set()

    def line(target, label, r):
        if r.get("opa_quantiles_from"):
            sources.add(r["opa_quantiles_from"])
        print(f"  {target:<20} {label:<24} {fmt(r.get('transactions'), 'd', 8)} {fmt(r.get('decisions_per_txn'), '.2f', 7)} "
              f"{fmt(r.get('opa_evaluations'), 'd', 9)} {fmt(r.get('opa_mean_ms'), '.3f', 8)} "
              f"{fmt(r.get('opa_p50_ms'), '.3f', 7)} {fmt(r.get('opa_p99_ms'), '.3f', 7)} "
              f"{fmt(r.get('cache_hits'), 'd', 10)} {fmt(r.get('memo_hits'), 'd', 10)} {fmt(r.get('hit_ratio'), '.3f', 9)}")

    for t, e in pm.items():
        if t != "gateway-passthrough":   # which asks OPA nothing: its sum is enough to show that
            for c in e["cells"]:
                line(t, f"{c['workload']} {c['mode']} c{c['clients']}", c)
            for m, r in e["by_mode"].items():
                line(t, f"-M {m}, all cells", r)
        if e.get("all_cells"):
            line(t, "all cells", e["all_cells"])
        if e.get("row_throughput"):
            line(t, "row SELECT (cursor)", e["row_throughput"])
    print("  (times in ms; OPA mean exact per run; OPA p50/p99 from " + ("; ".join(sorted(sources)) or "-") + ")")
    for t, e in pm.items():
        tot = e.get("instance_totals_after_cells")
        if not tot:
            continue
        print(f"  {t}, whole instance after the cells: {fmt(tot.get('opa_evaluations'), 'd', 0)} OPA evaluations "
              f"(mean {fmt(tot.get('opa_mean_ms'), '.3f', 0)} ms, p50 {fmt(tot.get('opa_p50_ms'), '.3f', 0)} ms, "
              f"p99 {fmt(tot.get('opa_p99_ms'), '.3f', 0)} ms), "
              f"{fmt(tot.get('cache_hits'), 'd', 0)} cache hits, {fmt(tot.get('memo_hits'), 'd', 0)} memo hits, "
              f"hit ratio {fmt(tot.get('hit_ratio'), '.3f', 0)}; Caffeine {DECISION_CACHE} gets: "
              f"{fmt(tot.get('caffeine_gets_hit'), 'd', 0)} hit / {fmt(tot.get('caffeine_gets_miss'), 'd', 0)} miss")


# ------------------------------------------------------------------------------------------------------------
# Issue #7
# ------------------------------------------------------------------------------------------------------------
def issue7_checks(cells, throughput, gw):
    """The acceptance targets of issue #7, evaluated against gateway GW. They are meant for gateway-enforced (OPA,
    masking and recording); gateway-passthrough shows what the bare relay allows."""
    def tps(workload, mode, clients, target):
        return ((cells.get((workload, mode, clients)) or {}).get(target) or {}).get("tps")

    def p50(workload, mode, clients, target):
        return ((cells.get((workload, mode, clients)) or {}).get(target) or {}).get("p50_ms")

    checks = []

    def add(name, value, goal, ok):
        if isinstance(value, float):
            value = round(value, 3)
        checks.append({"target": name, "checked_against": gw, "measured": value, "goal": goal,
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
    add("row SELECT: gateway / direct rows/s (2 columns masked on gateway-enforced)", r, ">= 0.80", None if r is None else r >= 0.8)
    heap = (gwt or {}).get("peak_heap_mb")
    add("row SELECT: gateway peak heap used (MB)", heap, "< 256", None if heap is None else heap < 256)
    return checks


def issue20_checks(cells, gw):
    """The targets of issue #20 against gateway GW, at -S -c 8 in both protocol modes: the CPU that the gateway and its
    helpers (Kafka, OPA) spend per transaction, measured per process in the same run, against PgBouncer's own; and the
    TPS that follows from it. (Its third target, the added p50 at -c 1, is issue #7's row of that name.)"""
    checks = []
    for mode in MODES:
        cell = cells.get(("select-only", mode, 8)) or {}
        mine = (cell.get(gw) or {}).get("cpu_us_per_txn") or {}
        theirs = (cell.get("pgbouncer") or {}).get("cpu_us_per_txn") or {}
        spent = None if mine.get(gw) is None else mine[gw] + (mine.get("kafka") or 0) + (mine.get("opa") or 0)
        r = ratio(spent, theirs.get("pgbouncer"))
        checks.append({"target": f"-S -M {mode} -c 8: (gateway + Kafka + OPA) / PgBouncer CPU per txn",
                       "checked_against": gw, "measured": None if r is None else round(r, 3), "goal": "<= 1.20",
                       "detail": {"gateway_kafka_opa_us": spent, "pgbouncer_us": theirs.get("pgbouncer")},
                       "status": "n/a" if r is None else ("met" if r <= 1.2 else "NOT met")})
        r = ratio((cell.get(gw) or {}).get("tps"), (cell.get("pgbouncer") or {}).get("tps"))
        checks.append({"target": f"-S -M {mode} -c 8: gateway / PgBouncer TPS", "checked_against": gw,
                       "measured": None if r is None else round(r, 3), "goal": ">= 0.90",
                       "status": "n/a" if r is None else ("met" if r >= 0.9 else "NOT met")})
    return checks


def recording_checks(samples):
    """Every transaction of a gateway-enforced cell was recorded: the events journaled during the cell are at least
    the transactions' statements times the events per statement, and not more than a transaction cut off at the end
    per client and, per connection (the clients' and pgbench's own, which reads the scale), its session.started and
    session.ended, its Parse requests and a few setup statements account for."""
    checks = []
    for r in samples:
        if r.get("target") != "gateway-enforced" or r.get("events_recorded") is None or not r.get("transactions"):
            continue
        per_txn = STATEMENTS_PER_TXN.get(r.get("workload"), 0) * EVENTS_PER_STATEMENT.get(r.get("mode"), 0)
        if not per_txn:
            continue
        clients = r.get("clients") or 1
        low = r["transactions"] * per_txn
        high = (r["transactions"] + clients) * per_txn + (clients + 1) * (4 + 2 * STATEMENTS_PER_TXN[r["workload"]])
        got = r["events_recorded"]
        checks.append({"target": f"recorded {r['label']}: events / transactions", "checked_against": "gateway-enforced",
                       "measured": round(got / r["transactions"], 3), "goal": f"{per_txn} (>= {low}, <= {high} events)",
                       "status": "met" if low <= got <= high else "NOT met"})
    return checks


def print_recorder(rows):
    """--recorder: per gateway-enforced cell, what the recorder stored while it ran, the lag of that cell's events,
    and the backlog when the cell ended."""
    if not rows:
        return
    print()
    print("Recording pipeline during the cells (gateway-enforced -> Kafka -> recorder -> PostgreSQL + S3):")
    print(f"  {'cell':<26} {'stored ev/s':>12} {'events':>9} {'lag p50 ms':>11} {'lag p99 ms':>11} {'lag max ms':>11}"
          f" {'backlog at end':>15}")
    for r in rows:
        print(f"  {r['label']:<26} {fmt(r.get('stored_per_s'), ',.0f', 12)} {fmt(r.get('events'), ',d', 9)}"
              f" {fmt(r.get('lag_p50_ms'), ',.0f', 11)} {fmt(r.get('lag_p99_ms'), ',.0f', 11)}"
              f" {fmt(r.get('lag_max_ms'), ',.0f', 11)} {fmt(r.get('backlog_events'), ',d', 15)}")


def print_checks(checks, gateways, title):
    if not gateways or not checks:
        return
    print()
    print(title)
    by_name = {}
    for c in checks:
        by_name.setdefault(c["target"], {})[c["checked_against"]] = c
    print(f"  {'':<58} " + " ".join(f"{g:>26}" for g in gateways) + "   goal")
    for name, per_gw in by_name.items():
        parts, goal = [], ""
        for g in gateways:
            c = per_gw.get(g)
            if c is None:
                parts.append(f"{'-':>26}")
                continue
            goal = c["goal"]
            v = c["measured"]
            shown = "-" if v is None else (f"{v:.2f}" if isinstance(v, float) else str(v))
            parts.append(f"{shown + ' ' + c['status']:>26}")
        print(f"  {name:<58} " + " ".join(parts) + f"   {goal}")


# ------------------------------------------------------------------------------------------------------------
# Chart and report
# ------------------------------------------------------------------------------------------------------------
COLORS = {"direct": "#4C72B0", "pgbouncer": "#DD8452", "gateway-passthrough": "#55A868",
          "gateway-enforced": "#C44E52"}


def write_chart(path, cells, targets, throughput):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"(no chart: matplotlib is not importable by {sys.executable})", file=sys.stderr)
        return False
    keys = sorted_cells(cells)
    labels = [f"{w}\n{m} c{c}" for (w, m, c) in keys]
    shown = [t for t in targets if any(cells[k].get(t) for k in keys)]
    panels = 3 if throughput else 2
    fig, axes = plt.subplots(panels, 1, figsize=(max(8, 1.9 * len(keys) + 2), 4.2 * panels))
    width = 0.8 / max(1, len(shown))
    for i, t in enumerate(shown):
        xs = [j + (i - (len(shown) - 1) / 2) * width for j in range(len(keys))]
        tps = [((cells[k].get(t) or {}).get("tps") or 0) for k in keys]
        p50 = [((cells[k].get(t) or {}).get("p50_ms") or 0) for k in keys]
        p99 = [((cells[k].get(t) or {}).get("p99_ms") or 0) for k in keys]
        axes[0].bar(xs, tps, width, label=t, color=COLORS.get(t))
        axes[1].bar(xs, p50, width, label=f"{t} p50", color=COLORS.get(t))
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
                    color=[COLORS.get(t["target"]) for t in ok])
        axes[2].set_title(f"Row throughput, SELECT of {throughput[0]['rows']:,} rows (policy: 2 columns masked)")
        axes[2].set_ylabel("rows/s")
        axes[2].grid(axis="y", alpha=0.3)
    fig.suptitle("Portcullis benchmark (client TLS on every target)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    return True


def fastest_per_target(rows):
    """One row per target, in the order of the first: a target read more than once keeps its fastest read, with the
    number of reads in 'reads' and every read's rows/s in 'reads_rows_per_s'."""
    by_target = {}
    for r in rows:
        kept = by_target.get(r["target"])
        reads = (kept or {}).get("reads_rows_per_s", []) + [r.get("rows_per_s")]
        if kept is None or (r.get("rows_per_s") or 0) > (kept.get("rows_per_s") or 0):
            kept = dict(r)
        kept["reads"] = len(reads)
        kept["reads_rows_per_s"] = reads
        by_target[r["target"]] = kept
    return list(by_target.values())


def cmd_report(args):
    raw = read_jsonl(args.raw)
    throughput = fastest_per_target(read_jsonl(args.throughput))
    samples = read_jsonl(args.policy)
    final_scrapes = dict(kv.partition("=")[::2] for kv in args.metrics or [])
    meta = {}
    for kv in args.meta or []:
        k, _, v = kv.partition("=")
        meta[k] = v
    targets = [t for t in (args.targets.split(",") if args.targets else TARGETS) if t]
    measured_targets = targets
    gateways = [t for t in measured_targets if t in GATEWAYS]

    cells = {}
    for r in raw:
        cells.setdefault((r["workload"], r["mode"], r["clients"]), {})[r["target"]] = r

    print()
    if meta.get("title"):
        print(meta["title"])
    if cells:
        print_main_table(cells, measured_targets)
        print_ratios(cells, measured_targets)
        print_added_latency(cells, measured_targets)
        print_cpu(cells, measured_targets)
        print_threads(cells, measured_targets)
    print_throughput(throughput)
    recorder = read_jsonl(args.recorder) if args.recorder else []
    print_recorder(recorder)
    pm = policy_metrics(samples, final_scrapes)
    print_policy(pm)
    print_recording_bytes(pm)
    checks = [c for g in gateways for c in issue7_checks(cells, throughput, g)]
    checks += recording_checks(samples)
    print_checks(checks, gateways, "Issue #7 targets, meant for gateway-enforced (OPA decisions, masking, recording to Kafka);"
                 " gateway-passthrough\n(no policy, no masking, no recording) shows what the bare relay allows:")
    cost_checks = [c for g in gateways for c in issue20_checks(cells, g)]
    print_checks(cost_checks, gateways, "Issue #20 targets (the CPU of the gateway and its helpers per transaction, against"
                 " PgBouncer's own; the\nadded p50 at -c 1 is issue #7's row above):")
    unavailable = []
    failures = [r for r in raw + throughput if r.get("error")]
    for r in failures:
        print(f"error: {r['target']} {r.get('workload')} {r.get('mode', '')} c{r.get('clients', '')}: {r['error']}",
              file=sys.stderr)

    result = {
        "meta": meta,
        "rows": [{k: r[k] for k in ("target", "workload", "mode", "clients", "tps", "p50_ms", "p99_ms")}
                 | {k: r[k] for k in ("duration_s", "transactions", "failed_transactions", "cpu_us_per_txn", "error")
                    if r.get(k) is not None}
                 for r in sorted(raw, key=lambda r: (cell_order(r), TARGETS.index(r["target"])
                                                     if r["target"] in TARGETS else 99))],
        "row_throughput": throughput,
        "policy_metrics": pm,
        "recording_pipeline": recorder,
        "issue7_targets": checks,
        "issue20_targets": cost_checks,
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
    r.add_argument("--cpu-before", help="a cpu-snapshot taken after pgbench started")
    r.add_argument("--cpu-after", help="a cpu-snapshot taken before pgbench ended")
    r.add_argument("--append", help="JSON-lines file to append the row to (a summary goes to stdout)")
    r.set_defaults(func=cmd_run_result)

    t = sub.add_parser("throughput-result")
    t.add_argument("--target", required=True)
    t.add_argument("--rows", type=int, required=True)
    t.add_argument("--millis", type=float, required=True)
    t.add_argument("--identity", default="", help="who ran the query (a gateway identity or a database role)")
    t.add_argument("--peak-rss-kb", type=int, default=0)
    t.add_argument("--peak-heap-mb", type=float, default=0)
    t.add_argument("--error", default="")
    t.add_argument("--append", help="JSON-lines file to append the row to (a summary goes to stdout)")
    t.set_defaults(func=cmd_throughput_result)

    c = sub.add_parser("cpu-snapshot")
    c.add_argument("--out", required=True)
    c.add_argument("--gateway", action="append", help="NAME=PORT: the bench gateway listening on PORT is group NAME")
    c.set_defaults(func=cmd_cpu_snapshot)

    h = sub.add_parser("heap-peak")
    h.add_argument("--gc-log")
    h.add_argument("--from-line", type=int, default=0)
    h.add_argument("--jstat")
    h.set_defaults(func=cmd_heap_peak)

    d = sub.add_parser("policy-delta")
    d.add_argument("--target", required=True)
    d.add_argument("--label", required=True)
    d.add_argument("--before", required=True)
    d.add_argument("--after", required=True)
    d.add_argument("--workload")
    d.add_argument("--mode")
    d.add_argument("--clients", type=int)
    d.add_argument("--pgbench-output")
    d.add_argument("--append", help="JSON-lines file to append the row to")
    d.set_defaults(func=cmd_policy_delta)

    rep = sub.add_parser("report")
    rep.add_argument("--raw", required=True)
    rep.add_argument("--throughput")
    rep.add_argument("--out", required=True)
    rep.add_argument("--chart")
    rep.add_argument("--targets")
    rep.add_argument("--meta", action="append")
    rep.add_argument("--policy", help="JSON lines of policy-delta")
    rep.add_argument("--recorder", help="JSON lines of the recorder's numbers per cell (bench --recorder)")
    rep.add_argument("--metrics", action="append", help="TARGET=FILE: a gateway's /q/metrics after the cells")
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
