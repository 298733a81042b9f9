"""One service database of one server: its sessions, transactions, cache hits, row traffic, size and growth, its
largest, busiest, most scanned and most bloated tables, unused and invalid indexes, and when autovacuum last came."""
from grafana import (NEVER, column, dashboard as make_dashboard, drill_link, none_row, over_range, per_interval, query,
                     rate, rename, row, set_thresholds, stat, standard_variables, table, timeseries, unit_overrides)

# The selected server and database.
DB = '{cluster=~"$cluster", job=~"$job", target=~"$target", datname=~"$datname"}'

# pgpulse reads per-table and per-index statistics every 5 minutes (the database-scoped collectors' ttl), so their
# counters step once per refresh; the table lists average their rates over the dashboard's time range.
TABLE_LINK = drill_link("Table details", "pgpulse-table", target="${target}", datname="${datname}",
                        schemaname="${__data.fields.schemaname}", relname="${__data.fields.relname}")
STATEMENTS_LINK = drill_link("Statements in this database", "pgpulse-statements", target="${target}",
                             datname="${datname}")


def top_table(title, description, rank, columns, *, sort, units, k=10, ascending=False, extra_overrides=None):
    """A table of the k tables ranked by `rank`, with more columns (name -> expression of the same labels) for those
    tables; `units` maps column names to units. Each row links to the table's dashboard."""
    top = f"topk({k}, {rank})"
    names = list(columns)
    exprs = [f"sort_desc({top})"] + [f"({expr}) and {top}" for expr in list(columns.values())[1:]]
    panel = table(title, description, units[names[0]],
                  [query(e, instant=True, fmt="table") for e in exprs],
                  columns=["schemaname", "relname"], width=12, height=9, links=[TABLE_LINK],
                  overrides=unit_overrides(units, names[0]) + (extra_overrides or []))
    rename(panel, names)
    panel["options"]["sortBy"] = [{"displayName": sort, "desc": not ascending}]
    return panel


# Window ratios from the recording rules the alerts use, so that the panel and the alert agree. A database with no
# block access (or no transaction) in 15 minutes has no ratio: it missed nothing (rolled nothing back).
CACHE_HIT = f"pg:database_cache_hit_ratio:rate15m{DB} or (pg_stat_database_blks_hit{DB} * 0 + 1)"
ROLLBACKS = f"pg:database_rollback_ratio:rate15m{DB} or (pg_stat_database_xact_rollback{DB} * 0)"

UNUSED = f"(changes(pg_stat_user_indexes_idx_scans_total{DB}[$__range]) == 0)"


def largest():
    return top_table(
        "Largest tables", "The ten largest tables by heap, TOAST and index size together, as of each table's last "
        "VACUUM or ANALYZE (pgpulse counts pages, it opens no table). Click a row for the table's dashboard.",
        f"pg_stat_user_tables_table_size_bytes{DB} + pg_stat_user_tables_index_size_bytes{DB}",
        {"Total": "",
         "Table (heap + TOAST)": f"pg_stat_user_tables_table_size_bytes{DB}",
         "Indexes": f"pg_stat_user_tables_index_size_bytes{DB}",
         "Live rows": f"pg_stat_user_tables_n_live_tup{DB}"},
        sort="Total", units={"Total": "bytes", "Table (heap + TOAST)": "bytes", "Indexes": "bytes",
                             "Live rows": "short"})


def busiest():
    ins, upd, dele = (rate(f"pg_stat_user_tables_n_tup_{c}", DB) for c in ("ins", "upd", "del"))
    return top_table(
        "Busiest tables", "The ten tables with the most rows inserted, updated and deleted per second, averaged over "
        "the time range: where the write load (and the vacuum work) goes. Click a row for the table's dashboard.",
        over_range(f"{ins} + {upd} + {dele}"),
        {"Rows written/s": "", "Inserted/s": over_range(ins), "Updated/s": over_range(upd),
         "Deleted/s": over_range(dele)},
        sort="Rows written/s", units={"Rows written/s": "wps", "Inserted/s": "wps", "Updated/s": "wps",
                                      "Deleted/s": "wps"})


def seq_scanned():
    seq = rate("pg_stat_user_tables_seq_scan", DB)
    # A table without an index has no index scan count: 0 index scans.
    idx = f"({rate('pg_stat_user_tables_idx_scan', DB)} or {seq} * 0)"
    return top_table(
        "Most sequentially scanned tables", "The ten tables with the most sequential scans per second over the time "
        "range, with the rows those scans read and the index scans beside them. Many rows read per scan on a large "
        "table usually means a missing index. Click a row for the table's dashboard.",
        over_range(seq),
        {"Seq scans/s": "", "Rows read by seq scans/s": over_range(rate("pg_stat_user_tables_seq_tup_read", DB)),
         "Index scans/s": over_range(idx)},
        sort="Seq scans/s", units={"Seq scans/s": "ops", "Rows read by seq scans/s": "rps", "Index scans/s": "ops"})


def dead_rows():
    dead, live = f"pg_stat_user_tables_n_dead_tup{DB}", f"pg_stat_user_tables_n_live_tup{DB}"
    return top_table(
        "Most dead rows", "The ten tables with the most dead rows (estimated), their share of the table's rows and "
        "when autovacuum last vacuumed them. A large share that stays means autovacuum does not keep up or something "
        "(a long transaction, a slot) holds the rows back. Click a row for the table's dashboard.",
        dead,
        {"Dead rows": "", "Dead share": f"{dead} / ({live} + {dead} > 0) or {dead} * 0", "Live rows": live,
         "Last autovacuum": f"pg_stat_user_tables_last_autovacuum{DB} or {live} * 0"},
        sort="Dead rows", units={"Dead rows": "short", "Dead share": "percentunit", "Live rows": "short",
                                 "Last autovacuum": "dateTimeFromNow"},
        extra_overrides=[column("Last autovacuum", mappings=NEVER)])


def vacuum_per_table():
    fallback = f"pg_stat_user_tables_n_live_tup{DB} * 0"  # a table never (auto)vacuumed or analyzed: "never"
    names = ["Last autovacuum", "Last vacuum", "Last autoanalyze", "Last analyze"]
    exprs = [f"sort(pg_stat_user_tables_last_{what}{DB} or {fallback})" if i == 0
             else f"pg_stat_user_tables_last_{what}{DB} or {fallback}"
             for i, what in enumerate(("autovacuum", "vacuum", "autoanalyze", "analyze"))]
    panel = table("Vacuum and analyze per table", "When each table was last vacuumed and analyzed, by autovacuum and "
                  "by hand, the longest ago first (never first of all). A busy table whose last autovacuum is old "
                  "is one autovacuum cannot finish or never starts on. Click a row for the table's dashboard.",
                  "dateTimeFromNow", [query(e, instant=True, fmt="table") for e in exprs],
                  columns=["schemaname", "relname"], width=24, height=9, links=[TABLE_LINK], mappings=NEVER)
    rename(panel, names)
    panel["options"]["sortBy"] = [{"displayName": "Last autovacuum", "desc": False}]
    return panel


def unused_indexes():
    size = f"pg_stat_user_indexes_size_bytes{DB}"
    panel = table(
        "Unused indexes", "Indexes no scan used during the time range, largest first, with their size and the scans "
        "counted since the statistics were last reset. Each still costs writes and vacuum work; check the standbys "
        "too before dropping one, since queries there do not count here. \"(none)\" when every index was used.",
        "bytes",
        [query(f"sort_desc({size} and {UNUSED}) or {none_row(0)}", instant=True, fmt="table"),
         query(f"(pg_stat_user_indexes_idx_scans_total{DB} and {UNUSED}) or {none_row(0)}", instant=True,
               fmt="table")],
        columns=["schemaname", "relname", "indexrelname"], width=16, height=8, links=[TABLE_LINK],
        overrides=[column("Scans since reset", unit="short")])
    rename(panel, ["Size", "Scans since reset"])
    panel["options"]["sortBy"] = [{"displayName": "Size", "desc": True}]
    return panel


def invalid_indexes():
    panel = table(
        "Invalid indexes", "Indexes left invalid by a failed CREATE INDEX CONCURRENTLY (or REINDEX CONCURRENTLY): "
        "still maintained on every write, never used by a query. Drop and create them again. \"(none)\" when healthy.",
        "short",
        [query(f"(pg_stat_user_indexes_valid{DB} == 0) or {none_row(1)}", instant=True, fmt="table")],
        columns=["schemaname", "relname", "indexrelname"], width=8, height=8, links=[TABLE_LINK],
        mappings=[{"type": "value", "options": {"0": {"text": "invalid", "color": "red"},
                                                "1": {"text": "none invalid", "color": "green"}}}])
    rename(panel, ["Valid"])
    return panel


def dashboard():
    model = make_dashboard(
        "pgpulse-database", "pgpulse / Database",
        "One service database of one server: sessions by state and role, transactions and rollbacks, cache hits over "
        "the window, row traffic, deadlocks, temporary files and conflicts, size and growth, the largest, busiest, "
        "most sequentially scanned and most bloated tables, unused and invalid indexes, and vacuum recency. Click a "
        "table for its own dashboard; the statements dashboard shows this database's queries.",
        standard_variables(target_multi=False, datname="single"),
        [
            row("Overview"),
            stat("Size", "Disk space the database uses now (pg_database_size), files of every fork included.",
                 "bytes", [f"sum(pg_database_size_bytes{DB})"], width=4),
            stat("Growth over the range", "How much the database grew (negative: shrank) over the dashboard's time "
                 "range, from its size gauge.", "bytes", [f"sum(delta(pg_database_size_bytes{DB}[$__range]))"],
                 width=4),
            stat("Client sessions", "Client sessions connected to this database now, in any state.", "short",
                 [f"sum(pg_stat_activity_count{DB}) or vector(0)"], width=4),
            stat("Transaction rate", "Commits and rollbacks per second in this database. Click for the "
                 "statements that make them.", "ops",
                 [f"sum({rate('pg_stat_database_xact_commit', DB)}) "
                  f"+ sum({rate('pg_stat_database_xact_rollback', DB)})"],
                 width=4, links=[STATEMENTS_LINK]),
            set_thresholds(stat(
                "Cache hit ratio (15 min)", "Share of block requests served from shared buffers over the "
                "last 15 minutes (the alert's window, not since the server started). 100% when no block "
                "was requested.", "percentunit", [CACHE_HIT], width=4, decimals=2),
                "red", (0.90, "green")),
            stat("Rollback ratio (15 min)", "Share of transactions rolled back over the last 15 minutes (the alert's "
                 "window). A rise means failing application transactions.", "percentunit", [ROLLBACKS], width=4,
                 decimals=2, thresholds=[(0.10, "red")]),

            row("Sessions"),
            timeseries("Sessions by state", "Client sessions in this database by state. Many idle in transaction "
                       "sessions hold locks and old snapshots; many active ones mean the database is saturated.",
                       "short", [(f"sum by (state) (pg_stat_activity_count{DB}) or {none_row(0, 'state')}",
                                  "{{state}}")], width=8, stack=True),
            timeseries("Sessions by role", "Client sessions in this database by role: which application holds the "
                       "connections.", "short",
                       [(f"sum by (usename) (pg_stat_activity_count{DB}) or {none_row(0, 'usename')}",
                         "{{usename}}")], width=8, stack=True),
            timeseries("Oldest transaction by state", "Age of the oldest open transaction among this database's "
                       "sessions, by session state. A long one holds back vacuum for the whole server.", "s",
                       [(f"max by (state) (pg_stat_activity_max_tx_duration{DB}) or {none_row(0, 'state')}",
                         "{{state}}")], width=8),

            row("Transactions and cache"),
            timeseries("Transactions per second", "Commits and rollbacks per second. Click for the statements "
                       "behind them.", "ops",
                       [(f"sum({rate('pg_stat_database_xact_commit', DB)})", "commits"),
                        (f"sum({rate('pg_stat_database_xact_rollback', DB)})", "rollbacks")],
                       links=[STATEMENTS_LINK]),
            timeseries("Rollback ratio", "Share of transactions rolled back over 15 minutes, against the "
                       "threshold of the rollback alert.", "percentunit",
                       [(ROLLBACKS, "rolled back (15 min)"),
                        ("pgpulse:threshold:rollback_ratio", "alert threshold")], minimum=0),
            timeseries("Cache hit ratio", "Share of block requests served from shared buffers over 15 minutes, "
                       "against the cache hit alert's threshold (the alert also needs enough reads). Not the ratio "
                       "since the server started, which hides today's misses.", "percentunit",
                       [(CACHE_HIT, "hit ratio (15 min)"),
                        ("pgpulse:threshold:cache_hit_min_ratio", "alert threshold")], maximum=1),
            timeseries("Blocks per second: cache and disk", "Blocks found in shared buffers and blocks read from "
                       "outside them (the OS cache or disk) per second: the volume behind the hit ratio.", "short",
                       [(f"sum({rate('pg_stat_database_blks_hit', DB)})", "hit in shared buffers"),
                        (f"sum({rate('pg_stat_database_blks_read', DB)})", "read")]),

            row("Rows and events"),
            timeseries("Rows read per second", "Rows returned by sequential scans (and index entries) and rows "
                       "fetched through indexes, per second. Returned far above fetched means scans of large "
                       "tables.", "rps",
                       [(f"sum({rate('pg_stat_database_tup_returned', DB)})", "returned"),
                        (f"sum({rate('pg_stat_database_tup_fetched', DB)})", "fetched")]),
            timeseries("Rows written per second", "Rows inserted, updated and deleted per second in this database.",
                       "wps",
                       [(f"sum({rate('pg_stat_database_tup_inserted', DB)})", "inserted"),
                        (f"sum({rate('pg_stat_database_tup_updated', DB)})", "updated"),
                        (f"sum({rate('pg_stat_database_tup_deleted', DB)})", "deleted")]),
            timeseries("Deadlocks and recovery conflicts", "Deadlocks detected, and queries canceled by conflicts "
                       "with recovery (standbys only), per interval. 0 when healthy.", "short",
                       [(per_interval("pg_stat_database_deadlocks", DB), "deadlocks"),
                        (per_interval("pg_stat_database_conflicts", DB), "recovery conflicts")]),
            timeseries("Recovery conflicts by cause", "Queries canceled on a standby per interval, by the cause of "
                       "the conflict with WAL replay. Always 0 on a primary.", "short",
                       [(per_interval(f"pg_stat_database_conflicts_confl_{cause}", DB), cause)
                        for cause in ("snapshot", "lock", "bufferpin", "deadlock", "tablespace")]),
            timeseries("Temporary files", "Temporary files created per interval: sorts and hashes that did not fit "
                       "in work_mem.", "short", [(per_interval("pg_stat_database_temp_files", DB), "files")]),
            timeseries("Temporary bytes per second", "Data written to temporary files per second by this database's "
                       "queries (spilled sorts, hashes and materializations).", "Bps",
                       [(f"sum({rate('pg_stat_database_temp_bytes', DB)})", "temporary bytes")]),

            row("Size"),
            timeseries("Database size", "Disk space the database uses, as pgpulse reads it every 5 minutes.",
                       "bytes", [(f"sum by (datname) (pg_database_size_bytes{DB})", "{{datname}}")]),
            timeseries("Growth per hour", "How fast the database grows, from the slope of its size over the last "
                       "hour, in bytes per hour. Negative after a VACUUM FULL or a large DROP.", "bytes",
                       [(f"sum(deriv(pg_database_size_bytes{DB}[1h])) * 3600", "growth per hour")]),

            row("Tables"),
            largest(),
            busiest(),
            seq_scanned(),
            dead_rows(),
            vacuum_per_table(),

            row("Indexes"),
            stat("Unused index count", "Indexes no scan used during the time range. Each costs writes and vacuum work.",
                 "short", [f"count({UNUSED}) or vector(0)"], width=8, thresholds=[(1, "yellow")]),
            stat("Unused index size", "Disk space taken by the indexes no scan used during the time range.",
                 "bytes", [f"sum(pg_stat_user_indexes_size_bytes{DB} and {UNUSED}) or vector(0)"], width=8),
            stat("Invalid index count", "Indexes left invalid by a failed concurrent build: maintained, never used. 0 "
                 "when healthy.", "short", [f"count(pg_stat_user_indexes_valid{DB} == 0) or vector(0)"], width=8,
                 thresholds=[(1, "red")]),
            unused_indexes(),
            invalid_indexes(),
        ])
    model["links"].append({
        "title": "Statements in this database", "type": "link", "url": "/d/pgpulse-statements", "icon": "dashboard",
        "tooltip": "pg_stat_statements for this server and database", "asDropdown": False, "includeVars": True,
        "keepTime": True, "targetBlank": False, "tags": []})
    return model
