"""Checks shared by the command-line tests: a CSV table as written, and a user's mistake as one line."""

from __future__ import annotations

import csv


def read_csv(path):
    """(column names, rows as dicts) of a CSV file the program wrote."""
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        return reader.fieldnames, list(reader)


def one_line_error(capsys) -> str:
    """The error the command printed: exactly one line, never a traceback."""
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err
