"""Replication: which servers are primaries and which standbys, each standby's lag seen from its primary and from
itself, replication slots and the WAL they retain, the archiver, the standby's WAL receiver, recovery conflicts, and
WAL sender and slot saturation."""
from grafana import (SELECTED, column, dashboard as make_dashboard, dashed_thresholds, drill_link, fixed_color, gauge,
                     per_interval, query, row, sel, standard_variables, stat, steps, table, threshold, timeseries)

LAG_SECONDS = threshold("replication_lag_seconds")
LAG_BYTES = threshold("replication_lag_bytes")
SLOT_RETAINED = threshold("slot_retained_wal_bytes")
ARCHIVE_AGE = threshold("archive_max_age_seconds")
CAPACITY = threshold("replication_capacity_ratio")

TARGET_LINK = "${__field.labels.target}"
STANDBY = "{{target}} → {{application_name}} ({{client_addr}})"
SLOT_KEY = "cluster, target, instance, job, slot_name, slot_type, database"
SENDER_KEY = "cluster, target, instance, job, application_name, client_addr, state"
TARGET_KEY = "cluster, target, instance, job"
RETAINED = f"max by ({SLOT_KEY}) (pg_replication_slots_pg_wal_lsn_diff{SELECTED})"
STREAMING = sel('status="streaming"')
AT_RISK = sel('wal_status=~"unreserved|lost"')


def primary_lag(kind):
    # The lag columns are NULL (absent) once the standby has caught up and the primary is idle: that is no lag.
    return (f"pg_stat_replication_{kind}_lag_seconds{SELECTED} or pg_stat_replication_pg_wal_lsn_diff{SELECTED} * 0",
            f"{STANDBY} {kind}")


def conflicts(cause):
    return (per_interval(f"pg_stat_database_conflicts_confl_{cause}", SELECTED, by="target"),
            f"{{{{target}}}} {cause}")


def dashboard():
    return make_dashboard(
        "pgpulse-replication", "pgpulse / Replication",
        "Primaries and standbys: lag in time and bytes seen from both sides, replication slots and their retained "
        "WAL, the archiver, the standbys' WAL receivers, recovery conflicts, WAL sender and slot saturation.",
        standard_variables(),
        [
            row("Topology"),
            stat("Role", "Whether each selected server is a primary or a standby (in recovery). A primary and its "
                 "standbys share the cluster label.", "short",
                 [query(f"max by (target) (pg_replication_is_replica{SELECTED})", "{{target}}", instant=True)],
                 text_mode="value_and_name", color_mode="background", width=8,
                 mappings=[{"type": "value", "options": {"0": {"text": "primary", "color": "blue"},
                                                         "1": {"text": "standby", "color": "purple"}}}],
                 links=[drill_link("Capacity of ${__field.labels.target}", "pgpulse-capacity", target=TARGET_LINK)]),
            stat("Standbys connected", "WAL senders on each primary, one per connected standby (or base backup), "
                 "as pg_stat_replication lists them; 0 on a primary that has none.", "short",
                 [query(f"count by (target) (pg_stat_replication_pg_wal_lsn_diff{SELECTED})"
                        f" or max by (target) (pg_replication_is_replica{SELECTED} == 0) * 0",
                        "{{target}}", instant=True)],
                 text_mode="value_and_name", width=6),
            stat("Standbys not streaming", "Standbys whose WAL receiver is not streaming from a primary (as "
                 "PgWalReceiverNotStreaming sees it). 0 when healthy; otherwise they fall behind or live on the "
                 "archive.", "short",
                 [f"count(pg_replication_is_replica{SELECTED} == 1 unless ignoring (status, slot_name, sender_host) "
                  f"pg_stat_wal_receiver_status{STREAMING}) or vector(0)"],
                 thresholds=[(1, "red")], width=5),
            stat("Slots at risk", "Replication slots whose wal_status is unreserved (past max_slot_wal_keep_size, "
                 "WAL removed at the next checkpoint) or lost (the consumer must be rebuilt). 0 when healthy.",
                 "short",
                 [f"count(pg_replication_slots_wal_status{AT_RISK}) or vector(0)"],
                 thresholds=[(1, "red")], width=5),

            row("Lag seen from the primary"),
            dashed_thresholds(timeseries(
                "Standby lag in time (primary's view)",
                "How long each standby took recently to report WAL written, flushed and replayed, from "
                "pg_stat_replication. Replay lag above the dashed line for 5 minutes fires PgReplicationLagHigh; "
                "0 while the standby is caught up and the primary idle.", "s",
                [primary_lag("replay"), primary_lag("flush"), primary_lag("write")],
                thresholds=[(LAG_SECONDS, "red")])),
            dashed_thresholds(timeseries(
                "Standby lag in bytes (primary's view)",
                "WAL each standby has yet to replay, from the primary's current position to the standby's reported "
                "replay position. Above the dashed line for 5 minutes fires PgReplicationLagBytesHigh.", "bytes",
                [(f"pg_stat_replication_pg_wal_lsn_diff{SELECTED}", STANDBY)],
                thresholds=[(LAG_BYTES, "red")])),
            table("Standbys (primary's view)", "Each standby a primary streams to: its state (streaming, catchup, "
                  "backup...), the WAL it has yet to replay and its recent replay lag.", "short",
                  [query(f"max by ({SENDER_KEY}) (pg_stat_replication_pg_wal_lsn_diff{SELECTED})",
                         instant=True, fmt="table"),
                   query(f"max by ({SENDER_KEY}) (pg_stat_replication_replay_lag_seconds{SELECTED}"
                         f" or pg_stat_replication_pg_wal_lsn_diff{SELECTED} * 0)", instant=True, fmt="table")],
                  columns=["target", "application_name", "client_addr", "state"], height=6,
                  overrides=[column("target", "Primary"), column("application_name", "Standby"),
                             column("client_addr", "Address"), column("state", "State"),
                             column("Value #A", "WAL to replay", unit="bytes",
                                    thresholds=steps("green", (LAG_BYTES, "red"))),
                             column("Value #B", "Replay lag", unit="s",
                                    thresholds=steps("green", (LAG_SECONDS, "red")))]),

            row("Lag seen from the standby"),
            dashed_thresholds(timeseries(
                "Replay delay (standby's view)",
                "Time since the transaction a standby last replayed was committed on its primary, 0 when all WAL "
                "it received is replayed. Above the dashed line for 5 minutes fires PgReplicaReplayLagHigh.", "s",
                [(f"pg_replication_lag_seconds{SELECTED}", "{{target}}")],
                thresholds=[(LAG_SECONDS, "red")], width=8)),
            dashed_thresholds(timeseries(
                "WAL received, not replayed (standby's view)",
                "WAL a standby has received but not yet replayed: replay falling behind the network. Above the "
                "dashed line for 5 minutes fires PgReplicaReplayLagBytesHigh.", "bytes",
                [(f"pg_replication_replay_lag_bytes{SELECTED}", "{{target}}")],
                thresholds=[(LAG_BYTES, "red")], width=8)),
            stat("Last replayed transaction", "When the transaction a standby replayed last was committed on the "
                 "primary. On a primary with no writes it ages without any lag; compare with the replay delay.",
                 "dateTimeFromNow",
                 [query(f"max by (target) (pg_replication_last_replay_seconds{SELECTED}) * 1000", "{{target}}",
                        instant=True)],
                 text_mode="value_and_name", width=8, height=8),

            row("WAL receiver (standbys)"),
            table("WAL receivers", "Each standby's WAL receiver: its status (streaming when healthy), the slot it "
                  "uses on the primary, the host it streams from, and the time since its last message from there.",
                  "short",
                  [query(f"max by ({TARGET_KEY}, status, slot_name, sender_host) "
                         f"(pg_stat_wal_receiver_status{SELECTED})", instant=True, fmt="table"),
                   query(f"max by ({TARGET_KEY}) (time() - pg_stat_wal_receiver_last_msg_receipt_seconds{SELECTED})",
                         instant=True, fmt="table")],
                  columns=["target", "status", "slot_name", "sender_host"], width=12, height=8,
                  overrides=[column("target", "Standby"), column("status", "Status"), column("slot_name", "Slot"),
                             column("sender_host", "Sending host"), column("Value #A", "Running", hidden=True),
                             column("Value #B", "Last message", unit="s")]),
            timeseries("Time since the last message from the primary",
                       "Age of the last message (WAL or keepalive) each standby's WAL receiver got from its sender. "
                       "A quiet receiver pings its sender after half of wal_receiver_timeout, so a steady climb past "
                       "that means the link is gone.", "s",
                       [(f"time() - pg_stat_wal_receiver_last_msg_receipt_seconds{SELECTED}", "{{target}}")]),

            row("Replication slots"),
            table("Replication slots", "Each slot with the WAL it retains, the WAL that can still be written before "
                  "it reaches max_slot_wal_keep_size and is at risk (no limit when that is -1), its wal_status and "
                  "whether a consumer is connected. An inactive slot retains WAL for nobody.", "bytes",
                  [query(f"max by ({SLOT_KEY}) (pg_replication_slots_pg_wal_lsn_diff{SELECTED})",
                         instant=True, fmt="table"),
                   # max_slot_wal_keep_size less the retained WAL; -1 (shown "no limit") where it is unlimited.
                   # pg_replication_slots_safe_wal_size_bytes would say it too, but is absent where it is unlimited,
                   # the usual setting, and the live test reads only series that are there.
                   query(f"max by ({TARGET_KEY}) (pg_settings_max_slot_wal_keep_size_bytes{SELECTED} > 0)"
                         f" - on ({TARGET_KEY}) group_right () {RETAINED}"
                         f" or {RETAINED} * 0 - 1", instant=True, fmt="table"),
                   query(f"max by ({SLOT_KEY}) (pg_replication_slots_active{SELECTED})", instant=True, fmt="table"),
                   query(f"max by ({SLOT_KEY}, wal_status) (pg_replication_slots_wal_status{SELECTED})",
                         instant=True, fmt="table")],
                  columns=["target", "slot_name", "slot_type", "database", "wal_status"], height=7,
                  sort_by="Retained WAL",
                  overrides=[
                      column("target", "Target", links=[drill_link("Capacity of ${__data.fields.target}",
                                                                   "pgpulse-capacity",
                                                                   target="${__data.fields.target}")]),
                      column("slot_name", "Slot"), column("slot_type", "Type"), column("database", "Database"),
                      column("wal_status", "WAL status", thresholds=steps("green"), mappings=[
                          {"type": "value", "options": {"reserved": {"color": "green", "index": 0},
                                                        "extended": {"color": "orange", "index": 1},
                                                        "unreserved": {"color": "red", "index": 2},
                                                        "lost": {"color": "dark-red", "index": 3}}}]),
                      column("Value #A", "Retained WAL", thresholds=steps("green", (SLOT_RETAINED, "red"))),
                      column("Value #B", "Keep-size headroom", mappings=[
                          {"type": "value", "options": {"-1": {"text": "no limit", "index": 0}}}]),
                      column("Value #C", "Active", unit="short", mappings=[
                          {"type": "value", "options": {"0": {"text": "inactive", "color": "orange", "index": 0},
                                                        "1": {"text": "active", "color": "green", "index": 1}}}],
                          thresholds=steps("green")),
                      column("Value #D", "wal_status", hidden=True)]),
            dashed_thresholds(timeseries(
                "WAL retained per slot",
                "WAL each slot holds back from its restart_lsn to the current position: the server "
                "cannot remove it. Above the dashed line for 10 minutes fires PgSlotRetainedWalHigh.",
                "bytes",
                [(f"pg_replication_slots_pg_wal_lsn_diff{SELECTED}", "{{target}} {{slot_name}}")],
                thresholds=[(SLOT_RETAINED, "red")],
                links=[drill_link("Capacity of ${__field.labels.target}", "pgpulse-capacity",
                                  target=TARGET_LINK)])),
            stat("Slots by wal_status", "Replication slots of the selected targets by wal_status: reserved is "
                 "healthy, extended is past max_wal_size but kept, unreserved will lose WAL at the next checkpoint, "
                 "lost has lost it.", "short",
                 [query(f"count by (wal_status) (pg_replication_slots_wal_status{SELECTED})", "{{wal_status}}",
                        instant=True)],
                 text_mode="value_and_name", width=6,
                 overrides=[fixed_color("reserved", "green"), fixed_color("extended", "orange"),
                            fixed_color("unreserved", "red"), fixed_color("lost", "dark-red")]),
            stat("Inactive slots", "Slots no connection is using: each retains WAL until its consumer returns or "
                 "the slot is dropped. 30 minutes inactive fires PgReplicationSlotInactive.", "short",
                 [f"count(pg_replication_slots_active{SELECTED} == 0) or vector(0)"],
                 thresholds=[(1, "orange")], width=6),
            gauge("WAL senders used", "WAL sender processes in use (one per standby or base backup) of "
                  "max_wal_senders. At the orange mark PgWalSendersNearlyExhausted fires; at 100% the next standby "
                  "cannot connect.", "percentunit",
                  [query(f"pg:wal_senders_used_ratio{SELECTED} or pg_settings_max_wal_senders{SELECTED} * 0",
                         "{{target}}", instant=True)],
                  thresholds=[(CAPACITY, "orange"), (1, "red")], minimum=0, maximum=1, height=4),
            gauge("Replication slots used", "Replication slots that exist of max_replication_slots. At the orange "
                  "mark PgReplicationSlotsNearlyExhausted fires; at 100% no new standby or subscriber gets a slot.",
                  "percentunit",
                  [query(f"pg:replication_slots_used_ratio{SELECTED} or pg_settings_max_replication_slots{SELECTED}"
                         " * 0", "{{target}}", instant=True)],
                  thresholds=[(CAPACITY, "orange"), (1, "red")], minimum=0, maximum=1, height=4),

            row("Archiver"),
            timeseries("WAL files archived", "WAL segment files archive_command archived per interval. A primary "
                       "writing WAL archives steadily; a standby archives only with archive_mode = always.", "short",
                       [(f"sum by (target) (increase(pg_stat_archiver_archived_count{SELECTED}[$__rate_interval]))",
                         "{{target}}")], width=8),
            timeseries("Archive failures", "Failed archive_command attempts per interval; 0 when healthy. Failures "
                       "for 10 minutes fire PgArchiverFailing: WAL piles up in pg_wal and backups fall behind.",
                       "short",
                       [(f"sum by (target) (increase(pg_stat_archiver_failed_count{SELECTED}[$__rate_interval]))",
                         "{{target}}")], thresholds=[(1, "red")], width=8),
            dashed_thresholds(timeseries(
                "Time since the last archived WAL file",
                "Age of the last successfully archived WAL file. It grows on an idle server; above the "
                "dashed line while WAL is written fires PgArchiverStalled.", "s",
                [(f"pg_stat_archiver_last_archive_age{SELECTED}", "{{target}}")],
                thresholds=[(ARCHIVE_AGE, "red")], width=8)),

            row("Recovery conflicts (standbys)"),
            timeseries("Queries canceled by recovery conflicts",
                       "Queries a standby canceled because replaying WAL conflicted with them, per interval and "
                       "cause: snapshot (vacuum removed rows they need), lock, buffer pin, deadlock, tablespace. "
                       "Always 0 on a primary.", "short",
                       [conflicts(cause) for cause in ("snapshot", "lock", "bufferpin", "deadlock", "tablespace")],
                       width=24),
        ])
