"""pg_stat_statements of one server: the top queries by total time, calls, mean time and rows, their I/O and WAL, and
the rest of each database's statements, so that the top queries and "other" add up to the database's total."""
from grafana import (dashboard as make_dashboard, drill_link, fixed_color, over_range, query, rate, reference_lines,
                     rename, row, stat, standard_variables, table, timeseries, unit_overrides)

# The selected server and databases. pgpulse keeps the top 100 statements of each database by execution time and sums
# the rest into one series with queryid="other" (collectors/stat_statements.yaml); the top lists rank real statements
# only, and the per-database totals (stat_statements_totals) give the remainder.
DB = '{cluster=~"$cluster", job=~"$job", target=~"$target", datname=~"$datname"}'
STATEMENT = '{cluster=~"$cluster", job=~"$job", target=~"$target", datname=~"$datname", queryid!="other"}'
BY_STATEMENT = "sum by (target, datname, user, queryid)"
LEGEND = "{{datname}} {{user}} {{queryid}}"
LOOKUP = ("pgpulse exports no query text, only the queryid: look one up with SELECT query FROM pg_stat_statements "
          "WHERE queryid = <queryid>, in the database where the extension is installed.")
DATABASE_LINK = drill_link("Database", "pgpulse-database", target="${target}", datname="${__data.fields.datname}")
DATABASE_LINK_SERIES = drill_link("Database", "pgpulse-database", target="${target}",
                                  datname="${__field.labels.datname}")


def per_statement(column):
    return f"{BY_STATEMENT} ({rate(f'pg_stat_statements_{column}_total', STATEMENT)})"


def database_total(column):
    return f"sum by (target) ({rate(f'pg_stat_statements_database_{column}_total', DB)})"


def top(column, k=10):
    return f"topk({k}, {per_statement(column)})"


def top_and_other(title, description, unit, column):
    """The top 10 statements by `column`, stacked, with the rest of the selected databases' statements ("other") on
    top of them; the database total is drawn as a dashed line that the stack reaches."""
    top10 = top(column)
    total = database_total(column)
    # The top 10's sum, or 0 when no statement is exported; both sides are summed by target so that they match.
    # Rates of separate series extrapolate slightly differently: "other" is clamped at 0.
    other = f"clamp_min({total} - (sum by (target) ({top10}) or {total} * 0), 0)"
    overrides = [
        fixed_color("B", "gray", by="byFrameRefID"),
        {"matcher": {"id": "byFrameRefID", "options": "C"},
         "properties": [{"id": "custom.stacking", "value": {"mode": "none", "group": "A"}},
                        {"id": "custom.fillOpacity", "value": 0},
                        {"id": "custom.lineWidth", "value": 2},
                        {"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                        {"id": "color", "value": {"mode": "fixed", "fixedColor": "text"}}]},
    ]
    return timeseries(title, f"{description} Stacked: the top 10 statements and \"other\", the rest of the selected "
                      f"databases' statements (their total less the top 10), reach the dashed database total. "
                      f"{LOOKUP}", unit,
                      [(top10, LEGEND), (other, "other"), (total, "database total")],
                      stack=True, overrides=overrides, links=[DATABASE_LINK_SERIES])


def top_by_mean():
    mean = f"{per_statement('seconds')} / ({per_statement('calls')} > 0)"
    database_mean = f"{database_total('seconds')} / ({database_total('calls')} > 0)"
    return timeseries("Top 10 by mean time", "The ten statements that took longest per call over each interval "
                      "(execution time per second over calls per second), against the mean of all the selected "
                      f"databases' statements. A slow statement that runs rarely shows here, not in the totals. "
                      f"{LOOKUP}", "s",
                      [(f"topk(10, {mean})", LEGEND), (database_mean, "all statements")],
                      links=[DATABASE_LINK_SERIES],
                      overrides=reference_lines("B", color="text"))


def statements_table():
    """The top 20 statements by execution time over the range, with their calls, mean time, rows, I/O and WAL."""
    rank = f"topk(20, {over_range(per_statement('seconds'))})"
    seconds, calls = over_range(per_statement("seconds")), over_range(per_statement("calls"))
    columns = {
        "Time/s": ("s", f"sort_desc({rank})"),
        "Calls/s": ("ops", calls),
        "Mean time": ("s", f"{seconds} / ({calls} > 0)"),
        "Rows/s": ("short", over_range(per_statement("rows"))),
        "Buffer hits/s": ("short", over_range(per_statement("shared_blks_hit"))),
        "Blocks read/s": ("short", over_range(per_statement("shared_blks_read"))),
        "Hit ratio": ("percentunit", f"{over_range(per_statement('shared_blks_hit'))} / "
                                     f"({over_range(per_statement('shared_blks_hit'))} + "
                                     f"{over_range(per_statement('shared_blks_read'))} > 0)"),
        "WAL/s": ("Bps", over_range(per_statement("wal_bytes"))),
    }
    exprs = [expr if i == 0 else f"({expr}) and {rank}" for i, (_, expr) in enumerate(columns.values())]
    overrides = unit_overrides({name: unit for name, (unit, _) in columns.items()})
    panel = table("Top statements over the range", "The twenty statements that spent the most execution time over "
                  "the time range, with their calls, mean time, rows, shared buffer hits and blocks read, and WAL, "
                  f"each per second averaged over the range. Click a row for its database. {LOOKUP}", "s",
                  [query(e, instant=True, fmt="table") for e in exprs], columns=["datname", "user", "queryid"],
                  height=10, links=[DATABASE_LINK], overrides=overrides)
    rename(panel, list(columns))
    panel["options"]["sortBy"] = [{"displayName": "Time/s", "desc": True}]
    return panel


def dashboard():
    return make_dashboard(
        "pgpulse-statements", "pgpulse / Statements",
        "pg_stat_statements of one server: the top statements by total time, calls, mean time and rows, their I/O "
        "and WAL, and \"other\", the rest of each database's statements, so that the top and the rest add up to the "
        f"database's total. {LOOKUP}",
        standard_variables(target_multi=False, datname="multi"),
        [
            row("Selected databases"),
            stat("Statements per second", "Executions per second of all statements in the selected databases "
                 "(pg_stat_statements' totals, not only the top statements pgpulse exports one by one).", "ops",
                 [f"sum({database_total('calls')})"]),
            stat("Execution time per second", "Seconds spent executing statements per second of wall time in the "
                 "selected databases: 2 s means two statements running at any moment on average.", "s",
                 [f"sum({database_total('seconds')})"]),
            stat("Rows per second", "Rows retrieved or affected per second by all statements of the selected "
                 "databases.", "short", [f"sum({database_total('rows')})"]),
            stat("Mean time per statement", "Execution time per call of all statements of the selected databases.",
                 "s", [f"sum({database_total('seconds')}) / (sum({database_total('calls')}) > 0)"]),

            row("Top statements and the rest"),
            top_and_other("Top 10 by total time", "Execution time per second of the ten statements that spend the "
                          "most: the ones to tune first.", "s", "seconds"),
            top_and_other("Top 10 by calls", "Executions per second of the ten most frequent statements.", "ops",
                          "calls"),
            top_and_other("Top 10 by rows", "Rows retrieved or affected per second by the ten statements that "
                          "handle the most.", "short", "rows"),
            top_by_mean(),

            row("I/O and WAL per statement"),
            timeseries("Top 10 by blocks read", "Shared blocks read from outside shared buffers (the OS cache or "
                       f"disk) per second by the ten statements that read the most. {LOOKUP}", "short",
                       [(top("shared_blks_read"), LEGEND)], width=8, links=[DATABASE_LINK_SERIES]),
            timeseries("Top 10 by buffer hits", "Shared buffer hits per second of the ten statements that touch the "
                       f"most blocks in memory: the CPU-heavy ones. {LOOKUP}", "short",
                       [(top("shared_blks_hit"), LEGEND)], width=8, links=[DATABASE_LINK_SERIES]),
            timeseries("Top 10 by WAL", "WAL generated per second by the ten statements that write the most: what "
                       f"fills pg_wal, the archive and the standbys' replay. {LOOKUP}", "Bps",
                       [(top("wal_bytes"), LEGEND)], width=8, links=[DATABASE_LINK_SERIES]),
            statements_table(),
        ])
