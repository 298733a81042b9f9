"""Rotation & credentials: when each login role's password expires, which sessions outlive a credential change or the
rotation policy, login roles without expiry, superuser roles with sessions, and pgpulse's own credentials (their age,
reloads and the logins the server rejects). The rotation story is deploy/ROTATION.md; the alerts are
alerts/rotation.yml, and the panels colour and count where those alerts fire."""
from grafana import (SELECTED, bargauge, column, dashboard as make_dashboard, drill_link, query, row, sel,
                     set_thresholds, standard_variables, stat, steps, table, threshold, timeseries)

DAY = 86400

WARNING_DAYS = threshold("password_expiry_warning_days")
CRITICAL_DAYS = threshold("password_expiry_critical_days")
GRACE = threshold("old_credential_grace_seconds")
APP_MAX_AGE_DAYS = threshold("app_credential_max_age_days")
REPORTING_MAX_AGE_DAYS = threshold("reporting_credential_max_age_days")

KEY = "cluster, target, instance, job"
ROLE_KEY = f"{KEY}, rolname"
# pg_stat_activity names the role usename, the role collectors rolname.
SESSIONS_BY_ROLE = (f'sum by ({ROLE_KEY}) (label_replace(pg_stat_activity_count{SELECTED}, "rolname", "$1", '
                    f'"usename", "(.+)"))')
EXPIRY = f"pg:role_password_expiry_days{SELECTED}"
CHANGED = f"pgpulse_credential_last_change_timestamp_seconds{SELECTED}"
LOGIN, NO_EXPIRY = 'canlogin="true"', 'has_expiry="false"'
SUPERUSER = sel('superuser="true"')
NOT_SUPERUSER = 'superuser="false"'
TRUE = {"true": {"text": "yes", "index": 0}, "false": {"text": "no", "index": 1}}
PGPULSE_LINK = [drill_link("pgpulse on ${__field.labels.target}", "pgpulse-pgpulse", target="${__field.labels.target}")]


def dashboard():
    return make_dashboard(
        "pgpulse-rotation", "pgpulse / Rotation & credentials",
        "Password expiry per login role, sessions that outlive a credential change or the rotation policy, login "
        "roles without expiry, superuser roles with sessions, and pgpulse's own credentials: age, reloads, "
        "rejected logins and the role it logs in as. See deploy/ROTATION.md.",
        standard_variables(),
        [
            row("Password expiry"),
            stat("Expired passwords", "Login roles whose VALID UNTIL has passed: their password logins are refused "
                 "(PgRolePasswordExpired). 0 when healthy.", "short",
                 [f"count({EXPIRY} < 0) or vector(0)"], thresholds=[(1, "red")], width=4),
            stat(f"Expiring within {CRITICAL_DAYS:g} days", "Login roles whose password expires within the critical "
                 "threshold (PgRolePasswordExpiringImminent): the service's next logins after it will fail. 0 when "
                 "healthy.", "short",
                 [f"count({EXPIRY} >= 0 < on () group_left () pgpulse:threshold:password_expiry_critical_days) "
                  "or vector(0)"], thresholds=[(1, "red")], width=4),
            stat(f"Expiring in {CRITICAL_DAYS:g} to {WARNING_DAYS:g} days", "Login roles whose password expires "
                 "within the warning threshold but not yet the critical one (PgRolePasswordExpiringSoon): rotate "
                 "them and set a new VALID UNTIL.", "short",
                 [f"count({EXPIRY} >= on () group_left () pgpulse:threshold:password_expiry_critical_days "
                  "< on () group_left () pgpulse:threshold:password_expiry_warning_days) or vector(0)"],
                 thresholds=[(1, "orange")], width=4),
            stat("Login roles without expiry", "Non-superuser login roles with no VALID UNTIL "
                 "(PgLoginRoleWithoutExpiry): a forgotten rotation goes unnoticed. The table below lists them, "
                 "superusers included.", "short",
                 [f"count(pg_role_info{sel(LOGIN, NO_EXPIRY, NOT_SUPERUSER)}) or vector(0)"],
                 thresholds=[(1, "blue")], width=4),
            stat("Expired roles with sessions", "Roles whose password has expired but that still have open "
                 "sessions (PgExpiredRoleHasSessions): the service fails when they reconnect. 0 when healthy.",
                 "short",
                 [f"count(pg_role_oldest_session_start_seconds{SELECTED} and on (target, instance, job, rolname) "
                  f"(pg_role_password_valid_until_seconds{SELECTED} < time())) or vector(0)"],
                 thresholds=[(1, "red")], width=4),
            stat("Superuser roles with sessions", "Superuser roles with open client sessions, pgpulse's own "
                 "connection aside (5 minutes of it fires PgSuperuserSessions). 0 when healthy: services must never "
                 "run as superuser.", "short",
                 [f"count(pg_role_oldest_session_start_seconds{SELECTED} and on (target, instance, job, rolname) "
                  f"pg_role_info{SUPERUSER}) or vector(0)"],
                 thresholds=[(1, "red")], width=4),
            set_thresholds(bargauge(
                "Time to password expiry", "Time left until each login role's password expires (its "
                f"VALID UNTIL), soonest first, as time ago once expired; roles that never expire are in the "
                f"table to the right. Orange within {WARNING_DAYS:g} days and red within "
                f"{CRITICAL_DAYS:g}, where the expiry alerts fire.", "dtdurations",
                [query(f"sort({EXPIRY} * {DAY})", "{{target}} {{rolname}}", instant=True)],
                width=12, height=8),
                "red", (CRITICAL_DAYS * DAY, "orange"), (WARNING_DAYS * DAY, "green")),
            table("Login roles without expiry", "Login roles whose password never expires (no VALID UNTIL). A "
                  "superuser is often the bootstrap role, reached by local peer authentication only; any other role "
                  "here escapes expiry-based rotation checks.", "short",
                  [query(f"max by ({ROLE_KEY}, superuser) (pg_role_info{sel(LOGIN, NO_EXPIRY)})",
                         instant=True, fmt="table")],
                  columns=["target", "rolname", "superuser"], width=12, height=8,
                  overrides=[column("target", "Target"), column("rolname", "Role"),
                             column("superuser", "Superuser", mappings=[{"type": "value", "options": TRUE}]),
                             column("Value", "Info", hidden=True)]),

            row("Sessions against credential changes"),
            timeseries("Sessions per role", "Client sessions per role on each target, from pg_stat_activity "
                       "(pgpulse's own included). A role to be retired must reach 0 before it is dropped.", "short",
                       [(f"sum by (target, usename) (pg_stat_activity_count{SELECTED})", "{{target}} {{usename}}")]),
            timeseries("Oldest session age per role, against pgpulse's credential age",
                       "Age of each role's oldest open session, and how long ago pgpulse's credentials last changed. "
                       "A session older than the credential line logged in before the change: with the old "
                       "password, still valid for as long as the session lasts.", "s",
                       [(f"time() - pg_role_oldest_session_start_seconds{SELECTED}", "{{target}} {{rolname}}"),
                        (f"time() - pgpulse_credential_last_change_timestamp_seconds{SELECTED}",
                         "{{target}} pgpulse credentials")]),
            table("Sessions per role", "Per target and role: open client sessions and the age of the oldest "
                  f"(pgpulse's asking connection aside). Orange past the {APP_MAX_AGE_DAYS:g}-day rotation policy "
                  "(PgRoleSessionOlderThanPolicy): the session keeps the authority of a credential at least that old.",
                  "short",
                  [query(SESSIONS_BY_ROLE, instant=True, fmt="table"),
                   query(f"max by ({ROLE_KEY}) (time() - pg_role_oldest_session_start_seconds{SELECTED})",
                         instant=True, fmt="table")],
                  columns=["target", "rolname"], width=12, height=8, sort_by="Oldest session",
                  overrides=[column("target", "Target"), column("rolname", "Role"),
                             column("Value #A", "Sessions"),
                             column("Value #B", "Oldest session", unit="dtdurations",
                                    thresholds=steps("green", (APP_MAX_AGE_DAYS * DAY, "orange")))]),
            stat("Old credential still in use", "Sessions of pgpulse's role that logged in before its credentials "
                 f"last changed, more than {GRACE / 3600:g} h after the change (PgOldCredentialInUse): something "
                 "still holds the old password. 0 when healthy.", "short",
                 [f"count((pg_role_oldest_session_start_seconds{SELECTED} "
                  f"and on (target, instance, job, rolname) pgpulse_target_role_info{SELECTED}) "
                  f"< on (target, instance, job) group_left () {CHANGED} "
                  f"and on (target, instance, job) time() - {CHANGED} "
                  "> on () group_left () pgpulse:threshold:old_credential_grace_seconds) or vector(0)"],
                 thresholds=[(1, "orange")], width=6),
            stat("Sessions older than the policy", "Roles (pgpulse's aside) with a session that logged in more "
                 f"than {APP_MAX_AGE_DAYS:g} days ago (PgRoleSessionOlderThanPolicy), on a credential at least "
                 "that old. 0 when healthy.", "short",
                 [f"count((time() - pg_role_oldest_session_start_seconds{SELECTED}) / {DAY} "
                  "> on () group_left () pgpulse:threshold:app_credential_max_age_days "
                  f"unless on (target, instance, job, rolname) pgpulse_target_role_info{SELECTED}) or vector(0)"],
                 thresholds=[(1, "orange")], width=6),
            table("Superuser roles and their sessions", "Every superuser role with its open client sessions; a "
                  "superuser with sessions is red (PgSuperuserSessions). 0 sessions everywhere when healthy.",
                  "short",
                  [query(f"({SESSIONS_BY_ROLE} and on (target, instance, job, rolname) "
                         f"pg_role_info{SUPERUSER}) "
                         f"or sum by ({ROLE_KEY}) (pg_role_info{SUPERUSER}) * 0",
                         instant=True, fmt="table")],
                  columns=["target", "rolname"], width=12, height=6, sort_by="Sessions",
                  overrides=[column("target", "Target"), column("rolname", "Superuser role"),
                             column("Value", "Sessions", thresholds=steps("green", (1, "red")))]),

            row("pgpulse's credentials"),
            set_thresholds(stat(
                "pgpulse credential age", "Time since the credentials pgpulse uses last changed (their file's "
                "modification time, or when pgpulse loaded them). Orange past the "
                f"{REPORTING_MAX_AGE_DAYS:g}-day policy for reporting roles (PgpulseCredentialTooOld).",
                "dtdurations",
                [query(f"time() - max by (target) (pgpulse_credential_last_change_timestamp_seconds"
                       f"{SELECTED})", "{{target}}", instant=True)],
                text_mode="value_and_name", width=6, height=6, links=PGPULSE_LINK),
                "green", (REPORTING_MAX_AGE_DAYS * DAY, "orange")),
            timeseries("Authentication failures", "Logins the server rejected for pgpulse's credentials, per "
                       "interval (PgpulseAuthFailures): the password changed in the database before the secret "
                       "reached pgpulse. 0 when healthy.", "short",
                       [(f"sum by (target) (increase(pgpulse_auth_failures_total{SELECTED}[$__rate_interval]))",
                         "{{target}}")], thresholds=[(1, "red")], width=9, height=6, links=PGPULSE_LINK),
            timeseries("Credential reloads", "Times pgpulse read its credentials again (a file changed, a login was "
                       "rejected, a reload), per interval, by outcome. A failure means a credential file could not "
                       "be read or parsed and the last good one stays in use (PgpulseCredentialReloadFailed).",
                       "short",
                       [(f"sum by (target, result) (increase(pgpulse_credential_reloads_total{SELECTED}"
                         "[$__rate_interval]))", "{{target}} {{result}}")], width=9, height=6),
            table("pgpulse's login role", "The role pgpulse is logged in as on each target, whether it is a "
                  "superuser or a member of one (PgpulseConnectedAsSuperuser), the managed-service administrator "
                  "roles it belongs to, and whether it has pg_monitor's privileges (it should).", "short",
                  [query(f"max by ({ROLE_KEY}, superuser, superuser_via, managed_admin, pg_monitor) "
                         f"(pgpulse_target_role_info{SELECTED})", instant=True, fmt="table")],
                  columns=["target", "rolname", "superuser", "superuser_via", "managed_admin", "pg_monitor"],
                  height=5,
                  overrides=[column("target", "Target"), column("rolname", "Logs in as"),
                             column("superuser", "Superuser", mappings=[{"type": "value", "options": {
                                 "true": {"text": "yes", "color": "red", "index": 0},
                                 "false": {"text": "no", "color": "green", "index": 1}}}]),
                             column("superuser_via", "Member of superusers"),
                             column("managed_admin", "Member of managed admin roles"),
                             column("pg_monitor", "pg_monitor", mappings=[{"type": "value", "options": {
                                 "true": {"text": "yes", "color": "green", "index": 0},
                                 "false": {"text": "no", "color": "orange", "index": 1}}}]),
                             column("Value", "Logged in", hidden=True)]),
        ])
