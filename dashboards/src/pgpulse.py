"""pgpulse itself: is the exporter healthy, how long do scrapes and collectors take, where do the series come from,
and how often does it log in (and fail to)."""
from grafana import (SELECTED, dashboard as make_dashboard, query, rename, row, stat, standard_variables, table,
                     timeseries, unit_overrides)

JOB = '{job=~"$job"}'  # pgpulse's process-level series carry no target


def collector_status():
    columns = {"Success": ("pgpulse_collector_success", "short"),
               "Cache age": ("pgpulse_collector_cache_age_seconds", "s"),
               "TTL": ("pgpulse_collector_ttl_seconds", "s"),
               "Series": ("pgpulse_collector_series", "short")}
    panel = table("Collector status", "Per target and collector: success of the last run (1 ok, 0 failed), the age "
                  "of the cached result served and its ttl, and the samples it exported.", "short",
                  [query(f"max by (target, collector) ({metric}{SELECTED})", instant=True, fmt="table")
                   for metric, _ in columns.values()],
                  columns=["target", "collector"], height=10,
                  overrides=unit_overrides({name: unit for name, (_, unit) in columns.items()}, "Success"))
    return rename(panel, list(columns))


def dashboard():
    return make_dashboard(
        "pgpulse-pgpulse", "pgpulse / pgpulse itself",
        "The exporter's own health: scrape and collector durations, success, cache ages, series per collector, "
        "logins and authentication failures.",
        standard_variables(),
        [
            row("Scrapes"),
            stat("pgpulse up", "Prometheus' up for each pgpulse of the selected jobs: 1 when its last scrape answered.",
                 "short", [query(f"min by (job) (up{JOB})", "{{job}}", instant=True)],
                 mappings=[{"type": "value", "options": {"0": {"text": "down", "color": "red"},
                                                         "1": {"text": "up", "color": "green"}}}]),
            stat("Failing collectors", "Collectors whose last run failed, on the selected targets. 0 when healthy.",
                 "short", [f"count(pgpulse_collector_success{SELECTED} == 0) or vector(0)"], thresholds=[(1, "red")]),
            stat("Config reload", "Whether the last config reload (or the start) applied the config: 0 means a reload "
                 "was rejected and the previous config still runs.", "short",
                 [query(f"min(pgpulse_config_last_reload_successful{JOB})", instant=True)],
                 mappings=[{"type": "value", "options": {"0": {"text": "rejected", "color": "red"},
                                                         "1": {"text": "applied", "color": "green"}}}]),
            stat("Series", "Samples the collectors of the selected targets exported in their last refresh.", "short",
                 [f"sum(pgpulse_collector_series{SELECTED})"]),
            timeseries("Scrape duration per target",
                       "Time each scrape spent on each target, against the time pgpulse allowed the scrape "
                       "(Prometheus' scrape timeout less a margin). A target near the allowance answers late.", "s",
                       [(f"pgpulse_scrape_duration_seconds{SELECTED}", "{{target}}"),
                        (f"max(pgpulse_scrape_timeout_seconds{JOB})", "allowed")]),
            timeseries("Slowest collectors", "The ten collector runs that took longest in the last refresh, per "
                       "target. A result served from cache takes no time.", "s",
                       [(f"topk(10, pgpulse_collector_duration_seconds{SELECTED})", "{{target}} {{collector}}")]),
            row("Collectors"),
            collector_status(),
            timeseries("Series per collector", "Samples each collector exported, summed over the selected targets: "
                       "where the scrape's size comes from.", "short",
                       [(f"sum by (collector) (pgpulse_collector_series{SELECTED})", "{{collector}}")], stack=True),
            timeseries("Cache age", "Age of the oldest cached result served per target and collector. Above its ttl "
                       "means refreshes fail and an old result is kept.", "s",
                       [(f"max by (target, collector) (pgpulse_collector_cache_age_seconds{SELECTED})",
                         "{{target}} {{collector}}")]),
            timeseries("Series caps hit", "Refreshes in which a collector exceeded its max_series or max_rows and "
                       "samples were dropped, per interval. 0 when healthy.", "short",
                       [(f"sum by (target, collector) (increase(pgpulse_collector_series_limit_hits_total{SELECTED}"
                         "[$__rate_interval]))", "{{target}} {{collector}}")]),
            timeseries("Invalid UTF-8 replaced", "Label values with invalid UTF-8 that pgpulse replaced with U+FFFD, "
                       "per interval (names in SQL_ASCII databases). 0 when healthy.", "short",
                       [(f"sum by (target) (increase(pgpulse_collector_utf8_replacements_total{SELECTED}"
                         "[$__rate_interval]))", "{{target}}")]),
            row("Logins"),
            timeseries("Logins per minute", "Sessions pgpulse opened per target, per minute: its connection churn "
                       "on the server. Steady state is near 0; a rate here means connections keep dropping.", "opm",
                       [(f"sum by (target) (rate(pgpulse_logins_total{SELECTED}[$__rate_interval])) * 60",
                         "{{target}}")]),
            timeseries("Authentication failures", "Logins the server rejected for their credentials, per interval: "
                       "a rotated password pgpulse has not been given.", "short",
                       [(f"sum by (target) (increase(pgpulse_auth_failures_total{SELECTED}[$__rate_interval]))",
                         "{{target}}")]),
            timeseries("Credential reloads", "Times pgpulse read the credentials again (a file changed, a login was "
                       "rejected, a reload), per interval, by outcome.", "short",
                       [(f"sum by (target, result) (increase(pgpulse_credential_reloads_total{SELECTED}"
                         "[$__rate_interval]))", "{{target}} {{result}}")]),
            table("Builds", "The pgpulse version and revision of each scraped pgpulse.", "short",
                  [query(f"max by (job, instance, version, revision) (pgpulse_build_info{JOB})", instant=True,
                         fmt="table")],
                  columns=["job", "instance", "version", "revision"], width=12),
        ])
