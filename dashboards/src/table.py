"""One table of one service database: its size, live and dead rows, row changes and scans, cache hits for the heap,
indexes and TOAST, its indexes, and when it was last vacuumed and analyzed."""
from grafana import (NEVER, column, dashboard as make_dashboard, none_row, over_range, query, query_variable, rate,
                     rename, row, sel, set_thresholds, standard_variables, stat, table, timeseries, unit_overrides)

# The selected table. pgpulse reads per-table statistics every 5 minutes (the database-scoped collectors' ttl), so the
# counters step once per refresh: the time series average their rates over 5 minutes, the range panels over the range.
T = ('{cluster=~"$cluster", job=~"$job", target=~"$target", datname=~"$datname", schemaname=~"$schemaname", '
     'relname=~"$relname"}')


def variables():
    in_database, in_table = sel('datname=~"$datname"'), sel('datname=~"$datname"', 'relname=~"$relname"')
    return standard_variables(target_multi=False, datname="single") + [
        query_variable("relname", "Table", f"pg_stat_user_tables_n_live_tup{in_database}", multi=False),
        query_variable("schemaname", "Schema", f"pg_stat_user_tables_n_live_tup{in_table}", multi=False),
    ]


def smoothed(metric, matcher=T):
    """Per-second rate of a counter, averaged over the 5 minutes between two refreshes of the table statistics."""
    return f"avg_over_time(sum({rate(metric, matcher)})[5m:])"


def or_zero(expr, present=f"pg_stat_user_tables_n_live_tup{T}"):
    """`expr`, or 0 where the table has no such series (no index, no TOAST table)."""
    return f"({expr}) or on() (sum({present}) * 0)"


def latest(metric):
    """A timestamp of the table, or 0 ("never") when it is absent."""
    return f"max(pg_stat_user_tables_{metric}{T}) or on() (max(pg_stat_user_tables_n_live_tup{T}) * 0)"


PARTS = (("heap", "heap"), ("idx", "indexes"), ("toast", "TOAST"), ("tidx", "TOAST index"))


def blocks(kind):
    """Blocks per second hit (kind=hit) or read for each part of the table that exists, one series per part."""
    return " or ".join(
        f'label_replace({smoothed(f"pg_statio_user_tables_{part}_blocks_{kind}")}, "part", "{name}", "", "")'
        for part, name in PARTS)


def hit_ratio(part):
    """The part's cache hit ratio over the range; -1 when it was not read in the range, -2 when it does not exist."""
    hit, read = (over_range(f"sum({rate(f'pg_statio_user_tables_{part}_blocks_{kind}', T)})")
                 for kind in ("hit", "read"))
    return f"{hit} / ({hit} + {read} > 0) or on() ({hit} * 0 - 1) or on() vector(-2)"


def index_table():
    no_index = none_row(0, text="(no index)")
    exprs = [
        f"sort_desc(pg_stat_user_indexes_size_bytes{T}) or {no_index}",
        f"{over_range(rate('pg_stat_user_indexes_idx_scans_total', T))} or {no_index}",
        f"pg_stat_user_indexes_idx_scans_total{T} or {no_index}",
        f"pg_stat_user_indexes_idx_tup_reads_total{T} or {no_index}",
        f"pg_stat_user_indexes_valid{T} or {none_row(-1, text='(no index)')}",
    ]
    names = ["Size", "Scans/s", "Scans since reset", "Entries read since reset", "Valid"]
    units = {"Scans/s": "ops", "Scans since reset": "short", "Entries read since reset": "short", "Valid": "short"}
    overrides = unit_overrides(units) + [column("Valid", mappings=[{"type": "value", "options": {
        "0": {"text": "INVALID", "color": "red"}, "1": {"text": "valid", "color": "green"}, "-1": {"text": "-"}}}])]
    panel = table("Indexes", "Each index of the table: its size (as of its last VACUUM or ANALYZE), scans per second "
                  "over the time range, scans and entries read since the statistics were reset, and whether it is "
                  "valid. An index with no scans costs writes for nothing; an invalid one is left by a failed "
                  "concurrent build. \"(no index)\" for a table without any.", "bytes",
                  [query(e, instant=True, fmt="table") for e in exprs], columns=["indexrelname"], height=8,
                  overrides=overrides)
    rename(panel, names)
    panel["options"]["sortBy"] = [{"displayName": "Size", "desc": True}]
    return panel


def dashboard():
    ratio_mappings = [{"type": "value", "options": {"-1": {"text": "not read", "color": "text"},
                                                     "-2": {"text": "none", "color": "text"}}}]
    cache_ratio = stat(
        "Cache hit ratio over the range", "Share of the block requests for the heap, its indexes, its TOAST table and "
        "TOAST index that shared buffers served, over the time range. \"not read\": no block requested in the range; "
        "\"none\": the table has no such part.", "percentunit",
        [query(hit_ratio(part), name, instant=True) for part, name in PARTS], width=12, decimals=1,
        text_mode="value_and_name", mappings=ratio_mappings)
    set_thresholds(cache_ratio, "text", (0, "red"), (0.9, "green"))

    return make_dashboard(
        "pgpulse-table", "pgpulse / Table",
        "One table of one service database: size, live and dead rows, row changes, scans, cache hits for the heap, "
        "indexes and TOAST, its indexes, and vacuum and analyze recency. pgpulse reads table statistics every 5 "
        "minutes, so the per-second rates are 5-minute averages.",
        variables(),
        [
            row("Size and rows"),
            stat("Table size", "Heap and TOAST size of the table as of its last VACUUM or ANALYZE (pgpulse counts "
                 "pages and opens no table).", "bytes", [f"sum(pg_stat_user_tables_table_size_bytes{T})"], width=4),
            stat("Index size", "Size of all the table's indexes as of the table's last VACUUM or ANALYZE.", "bytes",
                 [f"sum(pg_stat_user_tables_index_size_bytes{T})"], width=4),
            stat("Live rows", "Estimated live rows in the table now.", "short",
                 [f"sum(pg_stat_user_tables_n_live_tup{T})"], width=4),
            stat("Dead rows", "Estimated dead rows waiting for vacuum now.", "short",
                 [f"sum(pg_stat_user_tables_n_dead_tup{T})"], width=4),
            stat("Dead share", "Dead rows as a share of all the table's rows. Autovacuum should keep it low; the "
                 "dead rows alert looks at 20% (and a minimum count).", "percentunit",
                 [or_zero(f"sum(pg_stat_user_tables_n_dead_tup{T}) / (sum(pg_stat_user_tables_n_live_tup{T}) "
                          f"+ sum(pg_stat_user_tables_n_dead_tup{T}) > 0)")], width=4, decimals=1,
                 thresholds=[(0.2, "orange")]),
            stat("Modified since analyze", "Rows inserted, updated or deleted since the table was last analyzed: "
                 "autoanalyze runs when this passes its threshold.", "short",
                 [f"sum(pg_stat_user_tables_n_mod_since_analyze{T})"], width=4),
            timeseries("Size", "Heap (with TOAST) and index size of the table, stacked, as of each VACUUM or ANALYZE.",
                       "bytes", [(f"sum(pg_stat_user_tables_table_size_bytes{T})", "table (heap + TOAST)"),
                                 (f"sum(pg_stat_user_tables_index_size_bytes{T})", "indexes")], stack=True),
            timeseries("Live and dead rows", "Estimated live and dead rows. Dead rows that climb and never drop mean "
                       "vacuum does not run or cannot remove them.", "short",
                       [(f"sum(pg_stat_user_tables_n_live_tup{T})", "live"),
                        (f"sum(pg_stat_user_tables_n_dead_tup{T})", "dead")]),

            row("Activity"),
            timeseries("Row changes per second", "Rows inserted, updated (HOT updates among them) and deleted per "
                       "second, averaged over 5 minutes. HOT updates need no index entry: a low share of them on an "
                       "update-heavy table points at fillfactor or an indexed column being updated.", "wps",
                       [(smoothed("pg_stat_user_tables_n_tup_ins"), "inserted"),
                        (smoothed("pg_stat_user_tables_n_tup_upd"), "updated"),
                        (smoothed("pg_stat_user_tables_n_tup_hot_upd"), "HOT updated"),
                        (smoothed("pg_stat_user_tables_n_tup_del"), "deleted")], width=8),
            timeseries("Scans per second", "Sequential and index scans started on the table per second, averaged "
                       "over 5 minutes. Frequent sequential scans of a large table usually mean a missing index.",
                       "ops", [(smoothed("pg_stat_user_tables_seq_scan"), "sequential"),
                               (or_zero(smoothed("pg_stat_user_tables_idx_scan")), "index")], width=8),
            timeseries("Rows read per second", "Rows read by sequential scans and fetched through indexes per "
                       "second, averaged over 5 minutes.", "rps",
                       [(smoothed("pg_stat_user_tables_seq_tup_read"), "by sequential scans"),
                        (or_zero(smoothed("pg_stat_user_tables_idx_tup_fetch")), "through indexes")], width=8),

            row("Cache"),
            cache_ratio,
            timeseries("Blocks per second by part", "Blocks of the heap, indexes, TOAST table and TOAST index found "
                       "in shared buffers (hit) and read from outside them, per second, averaged over 5 minutes. Only "
                       "the parts the table has are drawn.", "short",
                       [(blocks("hit"), "{{part}} hit"), (blocks("read"), "{{part}} read")]),

            row("Indexes"),
            index_table(),

            row("Vacuum and analyze"),
            stat("Last vacuum and analyze", "When the table was last vacuumed and analyzed, by autovacuum and by "
                 "hand. An old autovacuum on a busy table means autovacuum cannot finish or never starts.",
                 "dateTimeFromNow",
                 [query(latest(what), name, instant=True) for what, name in (
                     ("last_autovacuum", "autovacuum"), ("last_vacuum", "vacuum"),
                     ("last_autoanalyze", "autoanalyze"), ("last_analyze", "analyze"))],
                 width=12, text_mode="value_and_name", mappings=NEVER),
            stat("Vacuum and analyze counts", "How many times the table was vacuumed and analyzed, by autovacuum and "
                 "by hand, since the statistics were last reset.", "short",
                 [query(f"sum(pg_stat_user_tables_{what}_count{T})", name, instant=True) for what, name in (
                     ("autovacuum", "autovacuums"), ("vacuum", "vacuums"), ("autoanalyze", "autoanalyzes"),
                     ("analyze", "analyzes"))],
                 width=12, text_mode="value_and_name"),
            timeseries("Vacuum and analyze triggers", "Dead rows (autovacuum starts past its threshold) and rows "
                       "modified since the last analyze (autoanalyze starts past its threshold).", "short",
                       [(f"sum(pg_stat_user_tables_n_dead_tup{T})", "dead rows"),
                        (f"sum(pg_stat_user_tables_n_mod_since_analyze{T})", "modified since analyze")]),
            timeseries("Vacuums and analyzes per interval", "Vacuums and analyzes of the table that pgpulse saw "
                       "finish, per interval, by autovacuum and by hand.", "short",
                       [(f"sum(increase(pg_stat_user_tables_{what}_count{T}[$__rate_interval]))", name)
                        for what, name in (("autovacuum", "autovacuum"), ("vacuum", "vacuum"),
                                           ("autoanalyze", "autoanalyze"), ("analyze", "analyze"))]),
        ])
