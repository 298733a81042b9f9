"""Builders for pgpulse's Grafana dashboards.

Each dashboard is a small Python module in this directory whose `dashboard()` returns the dashboard's model; generate.py
writes them as dashboards/<uid without the pgpulse- prefix>.json. The builders hold the house rules, so that no
dashboard can break them by accident:
  - every panel has a unit and a description (they are required arguments);
  - every query reads the `datasource` variable's Prometheus;
  - the dashboards share the variables (datasource, cluster, job, target, datname) and keep them, with the time range,
    in every link between them;
  - uids are fixed and dashboards are not editable (a provisioned copy is the source of truth; save a copy to change).
"""
import ast
import operator
import pathlib
import re

SCHEMA_VERSION = 39
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
TAG = "pgpulse"

# Template variables. Grafana's `label_values(series, label)` lists a label's values among the series that match; each
# variable narrows the next one, so picking a cluster lists only its targets.
SELECTED = '{cluster=~"$cluster", job=~"$job", target=~"$target"}'


def datasource_variable():
    return {
        "name": "datasource",
        "label": "Data source",
        "type": "datasource",
        "query": "prometheus",
        "current": {},
        "hide": 0,
        "refresh": 1,
        "regex": "",
        "skipUrlSync": False,
    }


def query_variable(name, label, series, *, multi, include_all=False, all_value=None, hide=0):
    """A variable that lists the values of `name` among `series`."""
    query = f"label_values({series}, {name})"
    variable = {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "definition": query,
        "query": {"qryType": 1, "query": query, "refId": "PrometheusVariableQueryEditor-VariableQuery"},
        "current": {},
        "hide": hide,
        "includeAll": include_all,
        "multi": multi,
        "options": [],
        "refresh": 2,  # on every time range change, so new targets and databases appear
        "regex": "",
        "skipUrlSync": False,
        "sort": 1,
    }
    if all_value is not None:
        variable["allValue"] = all_value
    return variable


def cluster_variable():
    # Targets without a `cluster` label (no `labels: {cluster: ...}` in the config) still match the All value.
    return query_variable("cluster", "Cluster", "pg_up", multi=True, include_all=True, all_value=".*")


def job_variable():
    return query_variable("job", "Job", 'pg_up{cluster=~"$cluster"}', multi=True, include_all=True, all_value=".*")


def target_variable(*, multi=True):
    """The PostgreSQL servers. Multi-valued on the fleet-wide dashboards, one server on the per-instance ones."""
    return query_variable("target", "Target", 'pg_up{cluster=~"$cluster", job=~"$job"}', multi=multi,
                          include_all=multi, all_value=".*" if multi else None)


def datname_variable(*, multi=True):
    return query_variable("datname", "Database", f"pg_database_size_bytes{SELECTED}", multi=multi,
                          include_all=multi, all_value=".*" if multi else None)


def standard_variables(*, target_multi=True, datname=None):
    """datasource, cluster, job, target and, with datname='multi' or 'single', the database."""
    variables = [datasource_variable(), cluster_variable(), job_variable(), target_variable(multi=target_multi)]
    if datname is not None:
        variables.append(datname_variable(multi=datname == "multi"))
    return variables


# Links. Every dashboard lists the others (a dropdown of the pgpulse tag) keeping the time range and the variables.
def dashboard_links():
    return [{
        "title": "pgpulse dashboards",
        "type": "dashboards",
        "tags": [TAG],
        "asDropdown": True,
        "includeVars": True,
        "keepTime": True,
        "targetBlank": False,
        "icon": "external link",
        "tooltip": "",
        "url": "",
    }]


def drill_link(title, uid, **variables):
    """A data link from a panel's value to dashboard `uid`, with the time range and the variables the row fixes
    (`target="${__field.labels.target}"`) or that pass through (the datasource, cluster and job)."""
    keep = {"datasource": "${datasource}", "cluster": "${cluster}", "job": "${job}"}
    keep.update(variables)
    query = "&".join(f"var-{name}={value}" for name, value in keep.items())
    return {"title": title, "url": f"/d/{uid}?${{__url_time_range}}&{query}", "targetBlank": False}


# Queries.
def query(expr, legend="", *, instant=False, ref=None, fmt=None):
    target = {"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": ref or "A", "editorMode": "code"}
    if instant:
        target.update({"instant": True, "range": False})
    else:
        target.update({"instant": False, "range": True})
    if fmt:
        target["format"] = fmt
    return target


def _refs(targets):
    out = []
    for i, target in enumerate(targets):
        if isinstance(target, str):
            target = query(target)
        elif isinstance(target, tuple):
            target = query(*target)
        target = dict(target)
        target["refId"] = chr(ord("A") + i)
        out.append(target)
    return out


# Panels. `unit` is Grafana's unit id: short, percentunit, bytes, s, dtdurations, dateTimeFromNow, reqps, ops, Bps...
def _panel(kind, title, description, unit, targets, *, width, height, links=None, thresholds=None, decimals=None,
           minimum=None, maximum=None, overrides=None, options=None, custom=None, mappings=None, transformations=None):
    if not description or not unit:
        raise ValueError(f"panel {title!r} needs a unit and a description")
    defaults = {"unit": unit}
    if thresholds is not None:
        defaults["thresholds"] = steps("green", *thresholds)
    if decimals is not None:
        defaults["decimals"] = decimals
    if minimum is not None:
        defaults["min"] = minimum
    if maximum is not None:
        defaults["max"] = maximum
    if links:
        defaults["links"] = links
    if mappings:
        defaults["mappings"] = mappings
    if custom:
        defaults["custom"] = custom
    panel = {
        "type": kind,
        "title": title,
        "description": description,
        "datasource": DATASOURCE,
        "fieldConfig": {"defaults": defaults, "overrides": overrides or []},
        "options": options or {},
        "targets": _refs(targets),
        "gridPos": {"w": width, "h": height},
    }
    if transformations:
        panel["transformations"] = transformations
    return panel


def timeseries(title, description, unit, targets, *, width=12, height=8, stack=False, **kw):
    custom = {"fillOpacity": 10, "showPoints": "never", "spanNulls": False}
    if stack:
        custom["stacking"] = {"mode": "normal", "group": "A"}
    options = {"legend": {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull", "max"]},
               "tooltip": {"mode": "multi", "sort": "desc"}}
    return _panel("timeseries", title, description, unit, targets, width=width, height=height, custom=custom,
                  options=options, **kw)


def stat(title, description, unit, targets, *, width=6, height=4, color_mode="value", text_mode="auto", **kw):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "colorMode": color_mode, "graphMode": "none", "textMode": text_mode, "justifyMode": "auto"}
    targets = [query(t, "", instant=True) if isinstance(t, str) else t for t in targets]
    return _panel("stat", title, description, unit, targets, width=width, height=height, options=options, **kw)


def gauge(title, description, unit, targets, *, width=6, height=6, **kw):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "showThresholdLabels": False, "showThresholdMarkers": True}
    targets = [query(t, "{{target}}", instant=True) if isinstance(t, str) else t for t in targets]
    return _panel("gauge", title, description, unit, targets, width=width, height=height, options=options, **kw)


def bargauge(title, description, unit, targets, *, width=12, height=8, **kw):
    options = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
               "orientation": "horizontal", "displayMode": "gradient", "showUnfilled": True}
    return _panel("bargauge", title, description, unit, targets, width=width, height=height, options=options, **kw)


def table(title, description, unit, targets, *, columns=None, width=24, height=8, sort_by=None, **kw):
    """An instant-query table, one row per series. `columns` lists the labels to show (the values are always shown);
    several queries are merged on their labels, each value in its own column (Value #A, Value #B...). Labels keep
    their names as headers, so data links can use ${__data.fields.<label>}."""
    targets = [query(t, instant=True, fmt="table") if isinstance(t, str) else t for t in targets]
    for target in targets:
        target.update({"instant": True, "range": False, "format": "table"})
    transformations = []
    if len(targets) > 1:
        transformations.append({"id": "merge", "options": {}})
    if columns is not None:
        names = list(columns) + ["Value"] + [f"Value #{chr(ord('A') + i)}" for i in range(len(targets))]
        transformations.append({"id": "filterFieldsByName", "options": {"include": {"names": names}}})
    options = {"showHeader": True, "cellHeight": "sm", "footer": {"show": False, "reducer": ["sum"], "fields": ""}}
    if sort_by:
        options["sortBy"] = [{"displayName": sort_by, "desc": True}]
    return _panel("table", title, description, unit, targets, width=width, height=height, options=options,
                  transformations=transformations, **kw)


def row(title):
    return {"type": "row", "title": title, "collapsed": False, "panels": [], "gridPos": {"w": 24, "h": 1}}


def _layout(panels):
    """Places panels left to right, wrapping at Grafana's 24 columns; a row starts a new line."""
    x = y = line_height = 0
    for panel_id, panel in enumerate(panels, start=1):
        pos = panel["gridPos"]
        if panel["type"] == "row" or x + pos["w"] > 24:
            x, y, line_height = 0, y + line_height, 0
        pos.update({"x": x, "y": y})
        panel["id"] = panel_id
        x += pos["w"]
        line_height = max(line_height, pos["h"])
        if panel["type"] == "row":
            x, y, line_height = 0, y + pos["h"], 0
    return panels


def dashboard(uid, title, description, variables, panels, *, time_from="now-6h", refresh="1m"):
    if not uid.startswith("pgpulse-"):
        raise ValueError(f"dashboard uid {uid!r} must start with pgpulse-")
    return {
        "uid": uid,
        "title": title,
        "description": description,
        "tags": [TAG, "postgresql"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": False,
        "graphTooltip": 1,
        "timezone": "browser",
        "time": {"from": time_from, "to": "now"},
        "refresh": refresh,
        "links": dashboard_links(),
        "templating": {"list": variables},
        "annotations": {"list": [{
            "builtIn": 1, "datasource": {"type": "grafana", "uid": "-- Grafana --"}, "enable": True, "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)", "name": "Annotations & Alerts", "type": "dashboard"}]},
        "panels": _layout(panels),
    }


# ---------------------------------------------------------------------------------------------------------------------
# Helpers the dashboard modules share.

# Thresholds. The panels draw and colour at the numbers of alerts/thresholds.yml (read when the dashboards are
# generated; generate.py --check fails when the file changes and the dashboards are not generated again).
THRESHOLDS_FILE = pathlib.Path(__file__).resolve().parents[2] / "alerts" / "thresholds.yml"
_OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv}


def _arithmetic(text):
    """The value of a constant expression such as `7 * 86400`, the only kind thresholds.yml holds."""
    def value(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
            return _OPERATORS[type(node.op)](value(node.left), value(node.right))
        raise ValueError(f"{THRESHOLDS_FILE}: not a constant expression: {text}")
    return value(ast.parse(text, mode="eval").body)


def read_thresholds():
    """pgpulse:threshold:<name> -> its number in alerts/thresholds.yml, so that panels colour where the alerts fire."""
    text = THRESHOLDS_FILE.read_text(encoding="utf-8")
    found = re.findall(r"record:\s*pgpulse:threshold:(\w+)[^\n]*\n\s*expr:\s*vector\(([^)\n]*)\)", text)
    if not found:
        raise ValueError(f"{THRESHOLDS_FILE}: no thresholds found")
    return {name: _arithmetic(expr) for name, expr in found}


def threshold(name):
    """The number of one pgpulse:threshold:<name>, failing at generation when the alerts no longer define it."""
    thresholds = read_thresholds()
    if name not in thresholds:
        raise ValueError(f"pgpulse:threshold:{name} not in {THRESHOLDS_FILE}")
    return thresholds[name]


# Selectors and PromQL.
def sel(*matchers):
    """SELECTED with more label matchers, e.g. sel('datname=~"$datname"'), so panels narrow the shared selection."""
    return SELECTED[:-1] + "".join(", " + matcher for matcher in matchers) + "}"


def rate(metric, selector):
    """The per-second rate of counter `metric` over $__rate_interval, which Grafana fits to the scrape interval."""
    return f"rate({metric}{selector}[$__rate_interval])"


def per_interval(metric, selector, by=None):
    """A counter's increase per $__rate_interval, summed (by the labels `by`): rare events are counted, not rated."""
    aggregation = f"sum by ({by}) " if by else "sum"
    return f"{aggregation}(increase({metric}{selector}[$__rate_interval]))"


def over_range(expr):
    """The average of `expr` over the dashboard's time range, so that a table ranks the whole range, not its end."""
    return f"avg_over_time(({expr})[$__range:$__interval])"


def by_target(expr, *labels):
    """`expr` with one series per target (and `labels`), its metric name dropped, so that a table's queries merge."""
    return f"max by ({', '.join(('cluster', 'job', 'target') + labels)}) ({expr})"


def none_row(value, label="indexrelname", text="(none)"):
    """A stand-in row for an empty list (`expr or none_row(0)`), so that a healthy list says "(none)", not nothing."""
    return f'on() label_replace(vector({value}), "{label}", "{text}", "", "")'


NO_LIMIT = -1  # a target without storage_limit_bytes, a database or role without CONNECTION LIMIT, an unlimited slot
NOT_GROWING = -2  # storage that is not growing: no time to full


def growth_per_day(series):
    """Bytes a day `series` grows by, from the 6-hour linear regression that PgStorageFullSoon's predict_linear uses."""
    return f"(predict_linear({series}[6h], 86400) - predict_linear({series}[6h], 0))"


def time_to_full(selector):
    """Seconds until storage reaches storage_limit_bytes at the last 6 hours' growth (or NOT_GROWING, NO_LIMIT)."""
    # 0 once storage is past the limit; no division by zero and no +Inf where it does not grow.
    used = f"pg:storage_used_bytes{selector}"
    limit = f"(pg_target_storage_limit_bytes{selector} > 0)"
    return (f"clamp_min({limit} - {used}, 0) / ({growth_per_day(used)} > 0) * 86400"
            f" or {limit} * 0 + ({NOT_GROWING})"
            f" or {used} * 0 + ({NO_LIMIT})")


def storage_ratio(selector):
    """pg:storage_used_ratio, or NO_LIMIT for a target without storage_limit_bytes (which has no ratio)."""
    return f"pg:storage_used_ratio{selector} or pg:storage_used_bytes{selector} * 0 + ({NO_LIMIT})"


# Field config: thresholds, mappings and overrides.
def steps(base, *pairs):
    """Absolute thresholds from `base` (the builders' start from green), then each (value, colour): low can be bad."""
    return {"mode": "absolute",
            "steps": [{"color": base, "value": None}] + [{"color": color, "value": value} for value, color in pairs]}


def set_thresholds(panel, base, *pairs):
    """Replaces a built panel's thresholds with steps(base, *pairs), for panels whose base colour is not green."""
    panel["fieldConfig"]["defaults"]["thresholds"] = steps(base, *pairs)
    return panel


def dashed_thresholds(panel):
    """Draws a time series panel's thresholds as dashed lines, so that the panel shows where the alert fires."""
    panel["fieldConfig"]["defaults"].setdefault("custom", {})["thresholdsStyle"] = {"mode": "dashed"}
    return panel


def sentinels(**texts):
    """Value mappings naming the negative stand-ins a query returns where a number would mislead (no_limit=-1)."""
    options = {}
    for index, (name, value) in enumerate(texts.items()):
        options[str(value)] = {"text": name.replace("_", " "), "color": "text", "index": index}
    return [{"type": "value", "options": options}]


TIME_TO_FULL_MAPPINGS = sentinels(no_storage_limit=NO_LIMIT, not_growing=NOT_GROWING)
NEVER = [{"type": "value", "options": {"0": {"text": "never", "color": "orange"}}}]  # a vacuum time 0: never happened


def fixed_color(name, color, *, by="byName"):
    """An override colouring field `name` (a query's refId with by="byFrameRefID") in `color`, not the palette's."""
    return {"matcher": {"id": by, "options": name},
            "properties": [{"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]}


def reference_lines(*refs, color="red"):
    """Overrides drawing the series of queries `refs` (a threshold, a limit, a total) as dashed lines without fill."""
    return [{"matcher": {"id": "byFrameRefID", "options": ref},
             "properties": [{"id": "custom.lineStyle", "value": {"fill": "dash", "dash": [10, 10]}},
                            {"id": "custom.fillOpacity", "value": 0},
                            {"id": "color", "value": {"mode": "fixed", "fixedColor": color}}]} for ref in refs]


def column(name, display=None, unit=None, *, hidden=False, mappings=None, thresholds=None, links=None, width=None):
    """A table column's override: header, unit, hidden, mappings, cell colours (thresholds: steps()), links, width."""
    properties = []
    if display:
        properties.append({"id": "displayName", "value": display})
    if unit:
        properties.append({"id": "unit", "value": unit})
    if hidden:
        properties.append({"id": "custom.hidden", "value": True})
    if mappings:
        properties.append({"id": "mappings", "value": mappings})
    if thresholds:
        properties.append({"id": "thresholds", "value": thresholds})
        properties.append({"id": "custom.cellOptions", "value": {"type": "color-text"}})
    if links:
        properties.append({"id": "links", "value": links})
    if width:
        properties.append({"id": "custom.width", "value": width})
    return {"matcher": {"id": "byName", "options": name}, "properties": properties}


def unit_overrides(units, default=None):
    """Column overrides giving each column of `units` (name -> unit) its unit, but `default`, which has the panel's."""
    return [column(name, unit=unit) for name, unit in units.items() if name != default]


def rename(panel, names):
    """Names a table's value columns in order (Value #A, Value #B...; Value for one query), as their headers."""
    values = ["Value"] if len(names) == 1 else [f"Value #{chr(ord('A') + i)}" for i in range(len(names))]
    panel["transformations"].append({"id": "organize", "options": {
        "excludeByName": {}, "indexByName": {}, "renameByName": dict(zip(values, names))}})
    return panel
