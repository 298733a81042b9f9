#!/usr/bin/env python3
"""Writes dashboards/<name>.json from each dashboards/src/<name>.py (its dashboard()), or with --check only compares,
and exits 1 naming every file that differs from its source.

Usage: python3 dashboards/src/generate.py [--check]
"""
import importlib
import json
import pathlib
import sys

SRC = pathlib.Path(__file__).resolve().parent
OUT = SRC.parent
LIBRARY = {"grafana", "generate"}


def rendered():
    sys.path.insert(0, str(SRC))
    for path in sorted(SRC.glob("*.py")):
        if path.stem in LIBRARY:
            continue
        model = importlib.import_module(path.stem).dashboard()
        if model["uid"] != f"pgpulse-{path.stem}":
            raise SystemExit(f"{path}: uid {model['uid']!r} must be pgpulse-{path.stem}")
        yield OUT / f"{path.stem}.json", json.dumps(model, indent=2, ensure_ascii=False) + "\n"


def main():
    check = sys.argv[1:] == ["--check"]
    if sys.argv[1:] not in ([], ["--check"]):
        raise SystemExit(__doc__)
    stale = []
    for path, content in rendered():
        current = path.read_text(encoding="utf-8") if path.exists() else None
        if current == content:
            continue
        if check:
            stale.append(path.name)
        else:
            path.write_text(content, encoding="utf-8")
            print(f"wrote {path.relative_to(OUT.parent)}")
    if stale:
        print("dashboards out of date with dashboards/src (run python3 dashboards/src/generate.py): "
              + ", ".join(stale))
        sys.exit(1)


if __name__ == "__main__":
    main()
