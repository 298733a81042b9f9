"""The fleet: every PostgreSQL server pgpulse watches, at a glance. Is each up, which version, primary or standby,
since when; how close each is to its connection and storage limits; is replication healthy; which alerts fire. Each
target links to its capacity, replication and rotation dashboards."""
from grafana import (NO_LIMIT, SELECTED as S, TIME_TO_FULL_MAPPINGS, bargauge, by_target, column,
                     dashboard as make_dashboard, dashed_thresholds, drill_link, growth_per_day, query, read_thresholds,
                     reference_lines, row, sel, sentinels, set_thresholds, standard_variables, stat, steps,
                     storage_ratio, table, time_to_full, timeseries)

T = read_thresholds()

# Alerts: pgpulse's (their names start with Pg), of the selected clusters, jobs and targets; an alert about a whole
# cluster has no target label and one about pgpulse itself no cluster label, so an empty label matches too.
FIRING = '{alertstate="firing", alertname=~"Pg.*", cluster=~"$cluster|", job=~"$job|", target=~"$target|"}'
CRITICAL = FIRING[:-1] + ', severity="critical"}'
STREAMING = sel('status="streaming"')
AT_RISK = sel('wal_status=~"unreserved|lost"')


def drop_columns(panel, *names):
    """Leaves the value columns `names` (e.g. "Value #B", a query read for its labels) out of a table."""
    for transformation in panel.get("transformations", []):
        if transformation["id"] == "filterFieldsByName":
            include = transformation["options"]["include"]["names"]
            transformation["options"]["include"]["names"] = [n for n in include if n not in names]
    return panel


def links(target):
    """The per-instance dashboards of a target: `target` is ${__data.fields.target} in a table, else
    ${__field.labels.target}."""
    return [drill_link("Capacity of " + target, "pgpulse-capacity", target=target),
            drill_link("Replication of " + target, "pgpulse-replication", target=target),
            drill_link("Rotation & credentials of " + target, "pgpulse-rotation", target=target)]


TABLE_LINKS = links("${__data.fields.target}")
FIELD_LINKS = links("${__field.labels.target}")
ROLE_MAPPINGS = [{"type": "value", "options": {"0": {"text": "primary", "color": "blue", "index": 0},
                                               "1": {"text": "standby", "color": "purple", "index": 1}}}]
UP_MAPPINGS = [{"type": "value", "options": {"0": {"text": "down", "color": "red", "index": 0},
                                             "1": {"text": "up", "color": "green", "index": 1}}}]


def targets():
    up = stat("Targets up", "Targets whose last scrape connected to PostgreSQL and answered a query (pg_up 1).",
              "short", [f"count(pg_up{S} == 1) or vector(0)"], width=4, color_mode="none")
    down = stat("Targets down", "Targets pgpulse could not connect to or query on its last scrape; 0 when healthy. "
                "PgTargetDown fires after 2 minutes; the pgpulse status page says why.", "short",
                [f"count(pg_up{S} == 0) or vector(0)"], width=4, thresholds=[(1, "red")])
    restarted = stat(
        "Restarted recently", "Servers whose postmaster started within PgRestarted's threshold: every connection was "
        "dropped and caches are cold. 0 when healthy.", "short",
        [f"count(time() - pg_postmaster_start_time_seconds{S} < on () group_left () "
         "pgpulse:threshold:restart_recent_seconds) or vector(0)"], width=4, thresholds=[(1, "orange")])
    versions = stat("PostgreSQL versions", "How many servers run each PostgreSQL version: a mixed fleet shows what "
                    "is left to upgrade.", "short",
                    [query(f"count by (short_version) (pg_static{S})", "{{short_version}}", instant=True)],
                    width=4, text_mode="value_and_name", color_mode="none")
    firing = stat("Alerts firing", "pgpulse alerts firing now on the selected clusters and targets; 0 when "
                  "healthy. The table at the bottom names them.", "short",
                  [f"count(ALERTS{FIRING}) or vector(0)"], width=4, thresholds=[(1, "orange")])
    critical = stat("Critical alerts firing", "pgpulse alerts of severity critical firing now: each needs someone "
                    "now. 0 when healthy.", "short",
                    [f"count(ALERTS{CRITICAL}) or vector(0)"], width=4,
                    thresholds=[(1, "red")])
    overview = drop_columns(table(
        "Targets", "One line per target: reachable or not, PostgreSQL version, primary or standby, time since the "
        "postmaster started, the share of usable connections and storage used. Click a target for its capacity, "
        "replication or rotation dashboard.", "short",
        [query(by_target(f"pg_up{S}"), instant=True, fmt="table"),
         query(by_target(f"pg_static{S}", "short_version"), instant=True, fmt="table"),
         query(by_target(f"pg_replication_is_replica{S}"), instant=True, fmt="table"),
         query(by_target(f"time() - pg_postmaster_start_time_seconds{S}"), instant=True, fmt="table"),
         query(by_target(f"pg:connections_used_ratio{S}"), instant=True, fmt="table"),
         query(by_target(storage_ratio(S)), instant=True, fmt="table")],
        columns=["cluster", "job", "target", "short_version"], height=8, links=TABLE_LINKS,
        overrides=[column("cluster", "Cluster"), column("job", "Job"),
                   column("short_version", "Version"),
                   column("Value #A", "Up", mappings=UP_MAPPINGS, thresholds=steps("red", (1, "green"))),
                   column("Value #C", "Role", mappings=ROLE_MAPPINGS),
                   column("Value #D", "Uptime", "dtdurations"),
                   column("Value #E", "Connections used", "percentunit",
                          thresholds=steps("green", (T["connections_warning_ratio"], "orange"),
                                           (T["connections_critical_ratio"], "red"))),
                   column("Value #F", "Storage used", "percentunit", mappings=sentinels(no_limit=NO_LIMIT),
                          thresholds=steps("green", (T["storage_warning_ratio"], "red")))]),
        "Value #B")
    return [row("Targets"), up, down, restarted, versions, firing, critical, overview]


def connections():
    thresholds = [(T["connections_warning_ratio"], "orange"), (T["connections_critical_ratio"], "red")]
    now = bargauge(
        "Connections used of usable", "Each target's client sessions as a share of its usable connections "
        "(max_connections less the reserved ones), fullest first; orange and red at PgConnectionsHigh's and "
        "PgConnectionsNearlyExhausted's thresholds.", "percentunit",
        [query(f"sort_desc(pg:connections_used_ratio{S})", "{{target}}", instant=True)],
        width=8, minimum=0, maximum=1, thresholds=thresholds, links=FIELD_LINKS)
    ratio = dashed_thresholds(timeseries(
        "Connections used of usable over time", "The same share over time, the alerts' thresholds dashed: a target "
        "climbing towards them runs out of connections and refuses logins.", "percentunit",
        [(f"pg:connections_used_ratio{S}", "{{target}}")], width=8, minimum=0, thresholds=thresholds,
        links=FIELD_LINKS))
    counts = timeseries(
        "Connections and usable limit", "Client sessions and the usable connections of each target (dashed), in "
        "connections.", "short",
        [(f"pg:connections_used{S}", "{{target}} used"), (f"pg:connections_usable{S}", "{{target}} usable")],
        width=8, minimum=0, overrides=reference_lines("B"), links=FIELD_LINKS)
    return [row("Connections"), now, ratio, counts]


def storage():
    used = f"pg:storage_used_bytes{S}"
    ratio = bargauge(
        "Storage used of storage_limit_bytes", "Each target's databases plus pg_wal as a share of its "
        "storage_limit_bytes, fullest first; red at PgStorageHigh's threshold, \"no limit\" where none is "
        "configured.", "percentunit",
        [query(f"sort_desc({storage_ratio(S)})", "{{target}}", instant=True)],
        width=8, minimum=0, maximum=1, thresholds=[(T["storage_warning_ratio"], "red")],
        mappings=sentinels(no_limit=NO_LIMIT), links=FIELD_LINKS)
    sizes = timeseries(
        "Total size and storage_limit_bytes", "Space each target's databases and pg_wal use, and its "
        "storage_limit_bytes (dashed) where one is configured.", "bytes",
        [(used, "{{target}}"), (f"pg_target_storage_limit_bytes{S} > 0", "{{target}} storage_limit_bytes")],
        width=10, minimum=0, overrides=reference_lines("B"), links=FIELD_LINKS)
    horizon = T["storage_full_horizon_seconds"]
    per_target = table(
        "Storage and time to full", "Per target: space used, storage_limit_bytes, the share used, growth per day "
        "over the last 6 hours, and when the volume is full at that growth (the linear prediction "
        "PgStorageFullSoon makes; red within its horizon). \"not growing\" when storage is flat or shrinking.",
        "bytes",
        [query(by_target(used), instant=True, fmt="table"),
         query(by_target(f"(pg_target_storage_limit_bytes{S} > 0) or {used} * 0 + ({NO_LIMIT})"), instant=True,
               fmt="table"),
         query(by_target(storage_ratio(S)), instant=True, fmt="table"),
         query(by_target(growth_per_day(used)), instant=True, fmt="table"),
         query(by_target(time_to_full(S)), instant=True, fmt="table")],
        columns=["cluster", "target"], height=8, links=TABLE_LINKS,
        overrides=[column("cluster", "Cluster"), column("Value #A", "Used"),
                   column("Value #B", "storage_limit_bytes", mappings=sentinels(no_limit=NO_LIMIT)),
                   column("Value #C", "Used of limit", "percentunit", mappings=sentinels(no_limit=NO_LIMIT),
                          thresholds=steps("green", (T["storage_warning_ratio"], "red"))),
                   column("Value #D", "Growth per day"),
                   column("Value #E", "Time to full", "dtdurations", mappings=TIME_TO_FULL_MAPPINGS,
                          thresholds=steps("red", (horizon, "orange"), (4 * horizon, "green")))])
    soonest = set_thresholds(stat(
        "Soonest time to full", "The shortest time to full of any selected target with storage_limit_bytes, at the "
        "growth of the last 6 hours; \"not growing\" when none grows, \"no storage limit\" when none has a limit.",
        "dtdurations",
        [f"min(({time_to_full(S)}) >= 0) or min({time_to_full(S)})"], width=6, height=8,
        mappings=TIME_TO_FULL_MAPPINGS),
        "red", (horizon, "orange"), (4 * horizon, "green"))
    return [row("Storage"), ratio, sizes, soonest, per_target]


def replication():
    primaries = stat(
        "Primaries per cluster", "Reachable primaries in each cluster: exactly 1 is healthy; 0 (no primary, writes "
        "fail) and 2 or more (split brain) are PgClusterNoPrimary and PgClusterMultiplePrimaries.", "short",
        [query(f"count by (cluster) (count by (cluster, target) (pg_replication_is_replica{S} == 0)) "
               f"or count by (cluster) (count by (cluster, target) (pg_up{S})) * 0", "{{cluster}}", instant=True)],
        width=6, text_mode="value_and_name")
    set_thresholds(primaries, "red", (1, "green"), (2, "red"))
    standbys = stat(
        "Standbys per cluster", "Reachable standbys in each cluster, as the targets report themselves.", "short",
        [query(f"count by (cluster) (count by (cluster, target) (pg_replication_is_replica{S} == 1)) "
               f"or count by (cluster) (count by (cluster, target) (pg_up{S})) * 0", "{{cluster}}", instant=True)],
        width=6, text_mode="value_and_name", color_mode="none")
    not_streaming = stat(
        "Standbys not streaming", "Standbys without a streaming WAL receiver (PgWalReceiverNotStreaming): they fall "
        "behind or live on the archive only. 0 when healthy.", "short",
        [f"count(pg_replication_is_replica{S} == 1 unless ignoring (status, slot_name, sender_host) "
         f"pg_stat_wal_receiver_status{STREAMING}) or vector(0)"],
        width=6, thresholds=[(1, "red")])
    lost = stat(
        "Slots unreserved or lost", "Replication slots whose WAL is past max_slot_wal_keep_size (unreserved: lost at "
        "the next checkpoint) or already gone (lost: rebuild the standby). 0 when healthy.", "short",
        [f"count(pg_replication_slots_wal_status{AT_RISK}) or vector(0)"], width=6, thresholds=[(1, "red")])
    lag_time = dashed_thresholds(timeseries(
        "Replication lag (time)", "How far behind each standby is, as the standby sees it (time since the last "
        "replayed commit, 0 when caught up) and as its primary sees it (replay lag, 0 while idle); "
        "PgReplicaReplayLagHigh's and PgReplicationLagHigh's threshold dashed.", "s",
        [(f"pg_replication_lag_seconds{S}", "{{target}} (standby's view)"),
         (f"pg_stat_replication_replay_lag_seconds{S} or pg_stat_replication_pg_wal_lsn_diff{S} * 0",
          "{{target}} → {{application_name}} (primary's view)")],
        minimum=0, thresholds=[(T["replication_lag_seconds"], "red")], links=FIELD_LINKS))
    lag_bytes = dashed_thresholds(timeseries(
        "Replication lag (bytes)", "WAL each standby has yet to replay, as its primary sees it and as the standby "
        "sees it (received but not replayed); the alerts' threshold dashed.", "bytes",
        [(f"pg_stat_replication_pg_wal_lsn_diff{S}", "{{target}} → {{application_name}} (primary's view)"),
         (f"pg_replication_replay_lag_bytes{S}", "{{target}} (standby's view)")],
        minimum=0, thresholds=[(T["replication_lag_bytes"], "red")], links=FIELD_LINKS))
    slot_key = ("slot_name", "slot_type")
    slots = table(
        "Replication slots", "Every replication slot of the selected targets: its wal_status (unreserved and lost "
        "are failures), whether a consumer is connected, and the WAL it retains.", "short",
        [query(by_target(f"pg_replication_slots_wal_status{S}", *slot_key, "wal_status")
               + ' or on () label_replace(vector(0), "slot_name", "no slot", "", "")', instant=True, fmt="table"),
         query(by_target(f"pg_replication_slots_active{S}", *slot_key), instant=True, fmt="table"),
         query(by_target(f"pg_replication_slots_pg_wal_lsn_diff{S}", *slot_key), instant=True, fmt="table")],
        columns=["cluster", "target", "slot_name", "slot_type", "wal_status"], height=8, links=TABLE_LINKS,
        overrides=[column("cluster", "Cluster"), column("slot_name", "Slot"),
                   column("slot_type", "Type"), column("wal_status", "wal_status"),
                   column("Value #B", "Active", mappings=[{"type": "value", "options": {
                       "0": {"text": "inactive", "color": "orange", "index": 0},
                       "1": {"text": "active", "color": "green", "index": 1}}}]),
                   column("Value #C", "Retained WAL", "bytes",
                          thresholds=steps("green", (T["slot_retained_wal_bytes"], "orange")))])
    slots = drop_columns(slots, "Value #A")
    return [row("Replication"), primaries, standbys, not_streaming, lost, lag_time, lag_bytes, slots]


def alerts():
    none = 'label_replace(vector(0), "alertname", "none firing", "", "")'
    firing = table(
        "Alerts firing now", "pgpulse's alerts firing now, by alert, severity, cluster and target, with how many "
        "series fire; \"none firing\" when healthy. Each alert's runbook is in alerts/runbooks/.", "short",
        [query(f"sort_desc(count by (alertname, severity, cluster, target) (ALERTS{FIRING})) or on () {none}",
               instant=True, fmt="table")],
        columns=["alertname", "severity", "cluster", "target"], width=16, height=8, sort_by="Firing",
        links=TABLE_LINKS,
        overrides=[column("alertname", "Alert"), column("severity", "Severity"), column("cluster", "Cluster"),
                   column("Value", "Firing")])
    over_time = timeseries(
        "Alerts firing by severity", "pgpulse alerts firing over time, per severity: when a problem started and "
        "whether it is spreading.", "short",
        [(f"count by (severity) (ALERTS{FIRING}) or on () label_replace(vector(0), \"severity\", \"none\", \"\", \"\")",
          "{{severity}}")], width=8, height=8, minimum=0, stack=True)
    return [row("Alerts"), firing, over_time]


def dashboard():
    return make_dashboard(
        "pgpulse-fleet", "pgpulse / Fleet overview",
        "Every PostgreSQL server pgpulse watches: up, version, primary or standby, uptime; connections and storage "
        "against their limits with time to full; replication health; the alerts firing now. A target links to its "
        "capacity, replication and rotation dashboards.",
        standard_variables(),
        targets() + connections() + storage() + replication() + alerts())
