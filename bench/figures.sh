# Shared by the bench scripts (source it): each benchmark run becomes one
# JSON line of figures, tagged with what ran, plus the CPU the server spent
# on it. Server CPU per operation is the figure that does not depend on
# which client is the bottleneck, and it is the least disturbed by other
# work on the machine (a busy neighbour slows a run, it does not make the
# server's work cost more CPU).

# cpu_ticks PID: user + system CPU time of the whole process (every thread,
# living or joined) so far, in clock ticks (proc(5), fields 14 and 15; the
# command name in parentheses may hold spaces, so cut after its ")").
cpu_ticks() {
  local stat
  stat=$(<"/proc/$1/stat")
  stat=${stat##*) }
  awk '{ print $12 + $13 }' <<<"$stat"
}

# tagged_figures PID OPS KEY=VALUE... -- COMMAND...: runs COMMAND (a bench
# that prints its figures as JSON on its last stdout line) and prints that
# line with the tags added and `server_cpu_us_per_op`: the CPU process PID
# used during the run divided by OPS, a count or the name of a field of the
# figures that holds it (e.g. `events`). PID `-`: no server to measure.
tagged_figures() {
  local pid=$1 ops=$2
  shift 2
  local tags=()
  while [[ $1 != -- ]]; do tags+=("$1"); shift; done
  shift
  local figures
  local ticks=-
  if [[ $pid == - ]]; then
    figures=$("$@" | tail -1)
  else
    local before
    before=$(cpu_ticks "$pid")
    figures=$("$@" | tail -1)
    ticks=$(($(cpu_ticks "$pid") - before))
  fi
  python3 - "$figures" "$ticks" "$(getconf CLK_TCK)" "$ops" "${tags[@]}" <<'PY'
import json, sys
figures = json.loads(sys.argv[1])
ticks, hz, ops = sys.argv[2], int(sys.argv[3]), sys.argv[4]
count = float(figures[ops]) if ops in figures else float(ops)
if ticks != "-":
    figures["server_cpu_s"] = round(int(ticks) / hz, 3)
    if count > 0:
        figures["server_cpu_us_per_op"] = round(int(ticks) / hz * 1e6 / count, 2)
figures.update(tag.split("=", 1) for tag in sys.argv[5:])
print(json.dumps(figures))
PY
}
