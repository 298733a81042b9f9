"""Capacity of one PostgreSQL server: how far each limit is from being reached (connections, storage, transaction and
multixact IDs, sequences, WAL retained by slots, WAL senders and slots), and how fast it is approaching.

The panels read the recording rules the capacity alerts read, and draw the thresholds of alerts/thresholds.yml
(read when the dashboards are generated), so that a panel turns red when its alert fires."""
from grafana import (NO_LIMIT, SELECTED, TIME_TO_FULL_MAPPINGS, bargauge, by_target, column,
                     dashboard as make_dashboard, dashed_thresholds, drill_link, gauge, growth_per_day, query,
                     read_thresholds, reference_lines, row, sel, sentinels, set_thresholds, standard_variables, stat,
                     steps, storage_ratio, table, time_to_full, timeseries)

S = SELECTED
DB = sel('datname=~"$datname"', 'datname!=""')
T = read_thresholds()
TARGET = "${target}"


def _database_link():
    return drill_link("Database ${__data.fields.datname}", "pgpulse-database", target=TARGET,
                      datname="${__data.fields.datname}")


def _database_field_link():
    return drill_link("Database ${__field.labels.datname}", "pgpulse-database", target=TARGET,
                      datname="${__field.labels.datname}")


def _replication_link():
    return drill_link("Replication of ${target}", "pgpulse-replication", target=TARGET)


def connections():
    budget = stat(
        "Connection budget", "max_connections, the slots reserved for superusers (and from PostgreSQL 16 for "
        "pg_use_reserved_connections), what is left for clients, what they use, and the headroom: new logins fail "
        "when the headroom reaches 0.", "short",
        [query(f"pg_settings_max_connections{S}", "max_connections", instant=True),
         query(f"pg_settings_max_connections{S} - pg:connections_usable{S}", "reserved", instant=True),
         query(f"pg:connections_usable{S}", "usable", instant=True),
         query(f"pg:connections_used{S}", "used", instant=True),
         query(f"pg:connections_usable{S} - pg:connections_used{S} or pg:connections_usable{S}", "headroom",
               instant=True)],
        width=10, height=6, text_mode="value_and_name", color_mode="none")
    used_ratio = gauge(
        "Connections used of usable", "Client sessions as a fraction of the usable connections (max_connections less "
        "the reserved ones). Orange and red at PgConnectionsHigh's and PgConnectionsNearlyExhausted's thresholds.",
        "percentunit", [f"pg:connections_used_ratio{S}"], width=4, height=6, minimum=0, maximum=1,
        thresholds=[(T["connections_warning_ratio"], "orange"), (T["connections_critical_ratio"], "red")])
    over_time = dashed_thresholds(timeseries(
        "Connections used of usable over time", "The same ratio over time, with the alerts' warning and critical "
        "thresholds dashed: a climb towards them shows a pool or a leak growing before logins fail.", "percentunit",
        [(f"pg:connections_used_ratio{S}", "{{target}} used of usable")], width=10, height=6, minimum=0,
        thresholds=[(T["connections_warning_ratio"], "orange"), (T["connections_critical_ratio"], "red")]))
    against_limits = timeseries(
        "Connections against the limits", "Client sessions against the usable connections and max_connections, in "
        "connections: the gap between the used and usable lines is the headroom.", "short",
        [(f"pg:connections_used{S}", "used"), (f"pg:connections_usable{S}", "usable"),
         (f"pg_settings_max_connections{S}", "max_connections")], width=12, height=8,
        overrides=reference_lines("B", color="orange") + reference_lines("C"))
    busiest_database = stat(
        "Busiest database of its CONNECTION LIMIT", "The highest share of its CONNECTION LIMIT any selected database "
        "uses; 0 when no database has a limit. Red at PgDatabaseConnectionLimitNear's threshold.", "percentunit",
        [f"max(pg:database_connections_used_ratio{DB}) or vector(0)"], width=4, height=8,
        thresholds=[(T["database_connections_ratio"], "red")])
    busiest_role = stat(
        "Busiest role of its CONNECTION LIMIT", "The highest share of its CONNECTION LIMIT any login role uses; 0 when "
        "no role with a limit has sessions. Red at PgRoleConnectionLimitNear's threshold.", "percentunit",
        [f"max(pg:role_connections_used_ratio{S}) or vector(0)"], width=4, height=8,
        thresholds=[(T["role_connections_ratio"], "red")])
    limited = stat(
        "Limits set", "How many selected databases and login roles have a CONNECTION LIMIT (the others are limited "
        "by max_connections only).", "short",
        [query(f"count(pg_database_connection_limit{DB} >= 0) or vector(0)", "databases", instant=True),
         query(f"count(pg_roles_connection_limit{S} >= 0) or vector(0)", "login roles", instant=True)],
        width=4, height=8, text_mode="value_and_name", color_mode="none")

    ratio_thresholds = steps("green", (T["database_connections_ratio"], "red"))
    per_database = table(
        "Connections per database", "Sessions in each selected database against its CONNECTION LIMIT (unlimited "
        "when none is set), and the share of the limit used. A database at its limit refuses new sessions even "
        "while max_connections has room.", "short",
        [query(by_target(f"pg_stat_database_numbackends{DB}", "datname"), instant=True, fmt="table"),
         query(by_target(f"pg_database_connection_limit{DB}", "datname"), instant=True, fmt="table"),
         query(by_target(f"pg:database_connections_used_ratio{DB}", "datname")
               + " or " + by_target(f"pg_database_connection_limit{DB} >= 0", "datname") + " * 0"
               + " or " + by_target(f"pg_database_connection_limit{DB}", "datname") + f" * 0 + ({NO_LIMIT})",
               instant=True, fmt="table")],
        columns=["datname"], width=12, height=8, sort_by="Sessions", links=[_database_link()],
        overrides=[column("Value #A", "Sessions"),
                   column("Value #B", "Limit", mappings=sentinels(unlimited=NO_LIMIT)),
                   column("Value #C", "Used of limit", "percentunit", mappings=sentinels(no_limit=NO_LIMIT),
                          thresholds=ratio_thresholds)])
    with_user = sel('usename!=""')
    sessions = ("sum by (cluster, job, target, rolname) "
                f'(label_join(pg_stat_activity_count{with_user}, "rolname", "", "usename"))')
    role_limit = by_target(f"pg_roles_connection_limit{S}", "rolname")
    per_role = table(
        "Connections per login role", "Sessions of each login role, on every database, against the role's "
        "CONNECTION LIMIT (unlimited when none is set), and the share of the limit used.", "short",
        [query(f"{sessions} or count by (cluster, job, target, rolname) (pg_roles_connection_limit{S}) * 0",
               instant=True, fmt="table"),
         query(role_limit, instant=True, fmt="table"),
         query(by_target(f"pg:role_connections_used_ratio{S}", "rolname")
               + " or " + by_target(f"pg_roles_connection_limit{S} >= 0", "rolname") + " * 0"
               + f" or {role_limit} * 0 + ({NO_LIMIT})", instant=True, fmt="table")],
        columns=["rolname"], width=12, height=8, sort_by="Sessions",
        overrides=[column("rolname", "Role"), column("Value #A", "Sessions"),
                   column("Value #B", "Limit", mappings=sentinels(unlimited=NO_LIMIT)),
                   column("Value #C", "Used of limit", "percentunit", mappings=sentinels(no_limit=NO_LIMIT),
                          thresholds=steps("green", (T["role_connections_ratio"], "red")))])
    return [row("Connections"), budget, used_ratio, over_time, against_limits, busiest_database, busiest_role,
            limited, per_database, per_role]


def storage():
    ratio = gauge(
        "Storage used of storage_limit_bytes", "Databases plus pg_wal as a fraction of the volume size configured as "
        "the target's storage_limit_bytes; red at PgStorageHigh's threshold. \"no limit\" when none is configured.",
        "percentunit", [storage_ratio(S)], width=4, height=6, minimum=0, maximum=1,
        thresholds=[(T["storage_warning_ratio"], "red")], mappings=sentinels(no_limit=NO_LIMIT))
    sizes = stat(
        "Storage", "Space the databases and pg_wal use, the configured storage_limit_bytes, and what is left of it.",
        "bytes",
        [query(f"pg:storage_used_bytes{S}", "used", instant=True),
         query(f"(pg_target_storage_limit_bytes{S} > 0) or pg:storage_used_bytes{S} * 0 + ({NO_LIMIT})", "limit",
               instant=True),
         query(f"(pg_target_storage_limit_bytes{S} > 0) - pg:storage_used_bytes{S} "
               f"or pg:storage_used_bytes{S} * 0 + ({NO_LIMIT})", "left", instant=True)],
        width=8, height=6, text_mode="value_and_name", color_mode="none", mappings=sentinels(no_limit=NO_LIMIT))
    horizon = T["storage_full_horizon_seconds"]
    full = set_thresholds(stat(
        "Time to full", "When storage reaches storage_limit_bytes at the growth of the last 6 hours (the linear "
        "prediction PgStorageFullSoon makes); red within the alert's horizon. \"not growing\" when it is flat or "
        "shrinking.", "dtdurations", [time_to_full(S)], width=4, height=6, mappings=TIME_TO_FULL_MAPPINGS),
        "red", (horizon, "orange"), (4 * horizon, "green"))
    used = f"pg:storage_used_bytes{S}"
    predicted = timeseries(
        "Storage used, predicted and limit", "Space used now, where the last 6 hours' growth takes it within "
        "PgStorageFullSoon's horizon, storage_limit_bytes, and the share of it at which PgStorageHigh fires "
        "(dashed).", "bytes",
        [(used, "used"),
         (f"predict_linear({used}[6h], scalar(pgpulse:threshold:storage_full_horizon_seconds))", "predicted"),
         (f"pg_target_storage_limit_bytes{S} > 0", "storage_limit_bytes"),
         (f"(pg_target_storage_limit_bytes{S} > 0) * on () group_left () pgpulse:threshold:storage_warning_ratio",
          "PgStorageHigh threshold")],
        width=8, height=6, minimum=0,
        overrides=reference_lines("C") + reference_lines("D", color="orange")
        + [{"matcher": {"id": "byFrameRefID", "options": "B"},
            "properties": [{"id": "custom.lineStyle", "value": {"fill": "dot", "dash": [0, 10]}}]}])
    per_database = table(
        "Database sizes", "Each selected database's size and its growth per day over the last 6 hours, largest "
        "first; a database links to its dashboard.", "bytes",
        [query(by_target(f"pg_database_size_bytes{DB}", "datname"), instant=True, fmt="table"),
         query(by_target(growth_per_day(f"pg_database_size_bytes{DB}"), "datname"), instant=True, fmt="table")],
        columns=["datname"], width=12, height=8, sort_by="Size", links=[_database_link()],
        overrides=[column("Value #A", "Size"),
                   column("Value #B", "Growth per day")])
    over_time = timeseries(
        "Largest databases", "The ten largest selected databases' sizes over time: which one grows.", "bytes",
        [(f"topk(10, pg_database_size_bytes{DB})", "{{datname}}")], width=12, height=8,
        links=[_database_field_link()])
    wal = timeseries(
        "pg_wal size and growth", "The size of pg_wal, and how much it grew over the last hour against "
        "PgWalDirectoryGrowing's threshold (dashed): a slot, a failing archiver or a long checkpoint holds WAL back.",
        "bytes",
        [(f"pg_wal_size_bytes{S}", "pg_wal"), (f"delta(pg_wal_size_bytes{S}[1h])", "growth over the last hour"),
         ("pgpulse:threshold:wal_directory_growth_bytes", "PgWalDirectoryGrowing threshold")],
        width=12, height=8, overrides=reference_lines("C", color="orange"))
    wal_rate = dashed_thresholds(timeseries(
        "WAL generation rate", "WAL the primary writes per second, over the rate interval and over 15 minutes (what "
        "PgWalGenerationHigh compares with its threshold, dashed); 0 on a standby, which writes no WAL of its own. "
        "Replicas, the archive and the disk must keep up with it.", "Bps",
        [(f"rate(pg_wal_written_bytes_total{S}[$__rate_interval]) or (pg_replication_is_replica{S} == 1) * 0",
          "{{target}}"),
         (f"pg:wal_written_bytes:rate15m{S} or (pg_replication_is_replica{S} == 1) * 0", "{{target}} over 15 min")],
        width=12, height=8, minimum=0, thresholds=[(T["wal_generation_bytes_per_second"], "red")]))
    return [row("Storage"), ratio, sizes, full, predicted, per_database, over_time, wal, wal_rate]


def wraparound():
    thresholds = [(T["wraparound_warning_ratio"], "orange"), (T["wraparound_critical_ratio"], "red")]
    xid = bargauge(
        "Transaction ID age, of the way to wraparound", "Each selected database's oldest unfrozen transaction ID as "
        "a fraction of the 2^31 IDs before wraparound; PostgreSQL stops writes near 100%. Orange and red at "
        "PgXidWraparoundWarning's and PgXidWraparoundCritical's thresholds.", "percentunit",
        [query(f"sort_desc(pg:database_xid_wraparound_ratio{DB})", "{{datname}}", instant=True)],
        minimum=0, maximum=1, thresholds=thresholds, links=[_database_field_link()])
    mxid = bargauge(
        "Multixact ID age, of the way to wraparound", "Each selected database's oldest unfrozen multixact ID as a "
        "fraction of the 2^31 multixact IDs before wraparound. Orange and red at PgMxidWraparoundWarning's and "
        "PgMxidWraparoundCritical's thresholds.", "percentunit",
        [query(f"sort_desc(pg:database_mxid_wraparound_ratio{DB})", "{{datname}}", instant=True)],
        minimum=0, maximum=1, thresholds=thresholds, links=[_database_field_link()])
    xid_freeze = dashed_thresholds(timeseries(
        "Transaction ID age of autovacuum_freeze_max_age", "Each database's transaction ID age as a fraction of "
        "autovacuum_freeze_max_age: past 100% (dashed) an anti-wraparound autovacuum should be running; staying "
        "there for an hour is PgXidAgeAboveFreezeMaxAge.", "percentunit",
        [(f"pg_database_datfrozenxid_age{DB} / ignoring (datname) group_left () "
          f"pg_settings_autovacuum_freeze_max_age{S}", "{{datname}}")],
        minimum=0, thresholds=[(1, "red")], links=[_database_field_link()]))
    mxid_freeze = dashed_thresholds(timeseries(
        "Multixact ID age of autovacuum_multixact_freeze_max_age", "Each database's multixact ID age as a fraction "
        "of autovacuum_multixact_freeze_max_age: past 100% (dashed) an anti-wraparound autovacuum should be running; "
        "staying there for an hour is PgMxidAgeAboveFreezeMaxAge.", "percentunit",
        [(f"pg_database_datminmxid_age{DB} / ignoring (datname) group_left () "
          f"pg_settings_autovacuum_multixact_freeze_max_age{S}", "{{datname}}")],
        minimum=0, thresholds=[(1, "red")], links=[_database_field_link()]))
    return [row("Transaction ID wraparound"), xid, mxid, xid_freeze, mxid_freeze]


def sequences():
    thresholds = [(T["sequence_warning_ratio"], "orange"), (T["sequence_critical_ratio"], "red")]
    ratio = f"pg_sequence_used_ratio{DB}"
    nearest = bargauge(
        "Sequences nearest exhaustion", "The ten used sequences of the selected databases with the largest share of "
        "their range used; inserts fail when one runs out. Orange and red at PgSequenceNearExhaustion's and "
        "PgSequenceExhaustionImminent's thresholds.", "percentunit",
        [query(f"topk(10, {ratio}) or on () label_replace(vector(0), \"sequencename\", \"no used sequence\", \"\", "
               "\"\")", "{{datname}} {{schemaname}}.{{sequencename}}", instant=True)],
        width=16, minimum=0, maximum=1, thresholds=thresholds, links=[_database_field_link()])
    counts = stat(
        "Sequences past the thresholds", "How many sequences of the selected databases have used more of their "
        "range than PgSequenceNearExhaustion's (warning) and PgSequenceExhaustionImminent's (critical) "
        "thresholds. 0 when healthy.", "short",
        [query(f"count({ratio} > on () group_left () pgpulse:threshold:sequence_warning_ratio) or vector(0)",
               "warning", instant=True),
         query(f"count({ratio} > on () group_left () pgpulse:threshold:sequence_critical_ratio) or vector(0)",
               "critical", instant=True)],
        width=8, height=8, text_mode="value_and_name", thresholds=[(1, "red")])
    return [row("Sequences"), nearest, counts]


def replication():
    retained = f"pg_replication_slots_pg_wal_lsn_diff{S}"
    no_slot = 'label_replace(vector(0), "slot_name", "no slot", "", "")'
    per_slot = timeseries(
        "WAL retained per slot", "WAL each replication slot holds back in pg_wal, against PgSlotRetainedWalHigh's "
        "threshold (dashed). A slot without a consumer retains WAL until the disk fills or max_slot_wal_keep_size "
        "cuts it off.", "bytes",
        [(f"{retained} or on () {no_slot}", "{{slot_name}} {{slot_type}}"),
         ("pgpulse:threshold:slot_retained_wal_bytes", "PgSlotRetainedWalHigh threshold")],
        width=12, height=8, minimum=0, overrides=reference_lines("B", color="orange"), links=[_replication_link()])
    keep_ratio = bargauge(
        "Slot WAL of max_slot_wal_keep_size", "Each slot's retained WAL as a fraction of max_slot_wal_keep_size: at "
        "100% the slot loses WAL and its standby or subscriber must be rebuilt. Red at PgSlotNearMaxWalKeepSize's "
        "threshold; \"unlimited\" where max_slot_wal_keep_size is -1 (then only the disk limits it).",
        "percentunit",
        [query(f"pg:replication_slot_keep_size_ratio{S} or {retained} * 0 + ({NO_LIMIT}) or on () {no_slot}",
               "{{slot_name}}", instant=True)],
        width=6, height=8, minimum=0, maximum=1, thresholds=[(T["slot_keep_size_ratio"], "red")],
        mappings=sentinels(unlimited=NO_LIMIT), links=[_replication_link()])
    keep = stat(
        "max_slot_wal_keep_size", "The most WAL a slot may retain before it is invalidated, and the least WAL that "
        "can still be written before any slot is at risk (safe_wal_size); \"unlimited\" when the setting is -1.",
        "bytes",
        [query(f"pg_settings_max_slot_wal_keep_size_bytes{S}", "max_slot_wal_keep_size", instant=True),
         query(f"min(pg_replication_slots_safe_wal_size_bytes{S}) or vector({NO_LIMIT})", "safe before a slot loses "
               "WAL", instant=True)],
        width=6, height=8, text_mode="value_and_name", color_mode="none", mappings=sentinels(unlimited=NO_LIMIT))
    wal_status = stat(
        "Slots by wal_status", "Replication slots per wal_status: reserved and extended are safe, unreserved loses "
        "WAL at the next checkpoint (PgSlotWalUnreserved), lost needs a rebuild (PgSlotWalLost).", "short",
        [query(f"count by (wal_status) (pg_replication_slots_wal_status{S}) or on () "
               'label_replace(vector(0), "wal_status", "no slot", "", "")', "{{wal_status}}", instant=True)],
        width=6, height=6, text_mode="value_and_name", color_mode="none")
    capacity_thresholds = [(T["replication_capacity_ratio"], "red")]
    senders = gauge(
        "WAL senders in use", "WAL sender processes in use (standbys, base backups, logical consumers) of "
        "max_wal_senders; red at PgWalSendersNearlyExhausted's threshold, past which the next standby cannot connect.",
        "percentunit", [f"pg:wal_senders_used_ratio{S} or pg_settings_max_wal_senders{S} * 0"], width=4, height=6,
        minimum=0, maximum=1, thresholds=capacity_thresholds)
    slots = gauge(
        "Replication slots in use", "Replication slots of max_replication_slots; red at "
        "PgReplicationSlotsNearlyExhausted's threshold, past which the next standby or subscriber gets no slot.",
        "percentunit", [f"pg:replication_slots_used_ratio{S} or pg_settings_max_replication_slots{S} * 0"], width=4,
        height=6, minimum=0, maximum=1, thresholds=capacity_thresholds)
    counts = stat(
        "WAL senders and slots", "WAL senders and replication slots in use against max_wal_senders and "
        "max_replication_slots.", "short",
        [query(f"count(pg_stat_replication_pg_wal_lsn_diff{S}) or vector(0)", "WAL senders", instant=True),
         query(f"pg_settings_max_wal_senders{S}", "max_wal_senders", instant=True),
         query(f"count(pg_replication_slots_active{S}) or vector(0)", "slots", instant=True),
         query(f"pg_settings_max_replication_slots{S}", "max_replication_slots", instant=True)],
        width=10, height=6, text_mode="value_and_name", color_mode="none", links=[_replication_link()])
    return [row("Replication slots and senders"), per_slot, keep_ratio, keep, wal_status, senders, slots, counts]


def dashboard():
    return make_dashboard(
        "pgpulse-capacity", "pgpulse / Capacity",
        "One server's limits and how close it is to each: connections, storage and time to full, transaction ID "
        "wraparound, sequences, WAL retained by slots, WAL generation, WAL senders and slots.",
        standard_variables(target_multi=False, datname="multi"),
        connections() + storage() + wraparound() + sequences() + replication())
