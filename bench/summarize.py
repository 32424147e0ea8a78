"""Turns bench/compare's JSON lines into the table of docs/BENCHMARKS.md.

Each row: a figure, palyrad's value, the quinn peer's value from the same
run, and the ratio palyrad / quinn (for latencies, quinn / palyrad, so that
above 1 always means palyrad is better). Repeated runs are reduced to their
median.
"""
import json
import statistics
import sys

# (label, field, higher_is_better, unit)
COMPARED = [
    ("handshake", "connections_per_s", True, "conn/s"),
    ("handshake", "p50_ms", False, "ms"),
    ("handshake", "p99_ms", False, "ms"),
    ("handshake", "server_cpu_us_per_op", False, "server CPU µs per handshake"),
    ("rpc", "rpcs_per_s", True, "rpc/s"),
    ("rpc", "p50_us", False, "µs"),
    ("rpc", "p99_us", False, "µs"),
    ("rpc", "server_cpu_us_per_op", False, "server CPU µs per call"),
    ("stream", "events_per_s", True, "events/s"),
    ("stream", "mib_per_s", True, "MiB/s"),
    ("stream", "server_cpu_us_per_op", False, "server CPU µs per event"),
    ("connections", "stayed_up", True, "of 10,000 idle"),
    ("connections", "server_rss_per_connection_kib", False, "KiB RSS per idle connection"),
]
ABSOLUTE = [
    ("publish", "publishes_per_s", "events/s (c=64, durable)"),
    ("publish", "p99_ms", "ms p99"),
    ("publish", "server_cpu_us_per_op", "server CPU µs per durable publish"),
    ("stream-grpc", "events_per_s", "events/s over the gRPC fallback"),
    ("stream-grpc", "mib_per_s", "MiB/s over the gRPC fallback"),
    ("bulk-gso", "mb_per_s", "MB/s, one stream, GSO + GRO"),
    ("bulk-sendmmsg", "mb_per_s", "MB/s, one stream, no offload (sendmmsg, no GRO)"),
]


def main(path):
    rows = [json.loads(line) for line in open(path) if line.strip()]

    def median(label, target, client, field):
        values = [r[field] for r in rows
                  if r["label"] == label and r["target"] == target and r["client"] == client and field in r]
        return statistics.median(values) if values else None

    print("| figure | client | palyrad | quinn peer | ratio (>1: palyrad better) |")
    print("|---|---|---|---|---|")
    for label, field, higher, unit in COMPARED:
        for client in ("palyra", "quinn"):
            ours = median(label, "palyrad", client, field)
            theirs = median(label, "quinn", client, field)
            if ours is None or theirs is None:
                continue
            ratio = ours / theirs if higher else theirs / ours
            print(f"| {label} {field} ({unit}) | {client} bench | {ours:,.1f} | {theirs:,.1f} | {ratio:.2f}× |")
    print()
    print("| figure (palyra only) | value |")
    print("|---|---|")
    for label, field, unit in ABSOLUTE:
        value = median(label, "palyrad" if not label.startswith("bulk") else "library", "palyra", field)
        if value is not None:
            print(f"| {label} {field} | {value:,.1f} {unit} |")


if __name__ == "__main__":
    main(sys.argv[1])
