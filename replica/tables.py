"""Tables written row by row: a sweep's or a phase diagram's rows appended to a CSV file as they are computed (each
row flushed to disk), read back on resume without trusting the file.

On resume the header must be the one the command writes (a file of another command, model or grid is refused in
one line before anything is computed), and every row is checked against it: the number of fields, numbers where
numbers belong, a known status, a readable quadrature rule. The first row that fails (a torn write: a crash, a full
disk, a copy cut short) is cut off with everything after it, with a one-line note, and recomputed. A Parquet target
collects its rows in a CSV beside it (``NAME.parquet.partial.csv``) and is written when the table is complete.
"""
import csv
import io
import math
import os
import sys
from pathlib import Path

import pandas as pd

from replica.solvers.quadrature import Quadrature
from replica.solvers.status import Status

from .errors import ParameterError

__all__ = ["RowFile", "check_output_path", "check_output_dir"]

SUFFIXES = (".csv", ".parquet")
_TEXT_COLUMNS = {"model", "status", "message", "remedy", "method", "notes", "quadrature", "line", "converged"}


def check_output_path(path, suffixes=SUFFIXES, what="--out"):
    """``path`` as a Path whose suffix is one of ``suffixes`` and whose directory exists and is writable; a one-line
    ParameterError otherwise (before anything is computed)."""
    path = Path(path)
    if path.is_dir():
        raise ParameterError(f"{what} {path}: is a directory; give a file name")
    if path.suffix not in suffixes:
        raise ParameterError(f"{what} {path}: the file must end in {' or '.join(suffixes)}")
    parent = path.parent if str(path.parent) else Path(".")
    if not parent.is_dir():
        raise ParameterError(f"{what} {path}: the directory {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        raise ParameterError(f"{what} {path}: cannot write there (permission denied)")
    existed = path.exists()
    try:  # the real test: open it for appending (a read-only mount, /proc, a full disk say no here)
        with open(path, "a"):
            pass
    except OSError as e:
        raise ParameterError(f"{what} {path}: cannot write there ({e.strerror or e})") from None
    if not existed:
        path.unlink()
    if path.suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ParameterError(f"{what} {path}: writing Parquet needs pyarrow (pip install 'replica[parquet]'); or "
                                 "use a .csv file") from None
    return path


def check_output_dir(path, what="--out"):
    """``path`` as a directory that exists (or can be made: it is made) and is writable; a one-line ParameterError
    otherwise."""
    path = Path(path)
    for parent in [path, *path.parents]:
        if parent.exists():
            if not parent.is_dir():
                raise ParameterError(f"{what} {path}: {parent} is not a directory")
            break
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"{what} {path}: cannot make that directory ({e.strerror or e})") from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise ParameterError(f"{what} {path}: cannot write there (permission denied)")
    return path


class RowFile:
    """A table of ``columns`` at ``path`` (.csv, or .parquet through a partial CSV), rows identified by the values of
    the ``key`` columns; ``model`` names what wrote it (in messages)."""

    def __init__(self, path, columns, key, model):
        self.path = check_output_path(path)
        self.columns, self.key, self.model = list(columns), list(key), model
        self.partial = self.path.with_name(self.path.name + ".partial.csv") if self.path.suffix == ".parquet" \
            else self.path
        self._rows = []  # every row of a Parquet target (written at the end)
        self._fh = None

    @staticmethod
    def key_of(params, names):
        return tuple(round(float(params[n]), 12) for n in names)

    # ----- reading back ------------------------------------------------------------------------------------------
    def open(self, resume=True):
        """The rows already on disk that can be trusted, by key ({} without ``resume``: the file starts afresh)."""
        frames = []
        if not resume:
            self.partial.unlink(missing_ok=True)
            if self.path.suffix == ".parquet":
                self.path.unlink(missing_ok=True)
        else:
            if self.path.suffix == ".parquet" and self.path.exists():
                frames.append(self._read_parquet())
            if self.partial.exists() and self.partial.stat().st_size > 0:
                frames.append(self._read_csv())
        old = pd.concat(frames, ignore_index=True) if frames else None
        done = {}
        if old is not None:
            for rec in old.to_dict("records"):
                done[self.key_of(rec, self.key)] = rec
            self._rows = list(done.values()) if self.path.suffix == ".parquet" else []
        return done

    def _refuse(self, header):
        raise ParameterError(f"{self.path} holds another table (columns {', '.join(header[:6])}, ...; "
                             f"this command writes {', '.join(self.columns[:6])}, ... for {self.model}): "
                             "choose another output file or delete it")

    def _read_parquet(self):
        try:
            df = pd.read_parquet(self.path)
        except Exception as e:  # noqa: BLE001  (a damaged file: say which, in one line)
            raise ParameterError(f"{self.path} cannot be read as Parquet ({type(e).__name__}): delete it or choose "
                                 "another output file") from None
        if list(df.columns) != self.columns:
            self._refuse(list(df.columns))
        return df

    def _read_csv(self):
        raw = self.partial.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
        lines = text.splitlines(keepends=True)
        header = next(csv.reader([lines[0]]), []) if lines else []
        if header != self.columns:
            self._refuse(header)
        good, offset = [lines[0]], len(lines[0].encode("utf-8"))
        for number, line in enumerate(lines[1:], start=2):
            if not line.endswith("\n") or not self._valid(line):
                self._cut(offset, number)
                break
            model = next(csv.reader([line]))[0] if "model" in self.columns[:1] else self.model
            if model != self.model:
                raise ParameterError(f"{self.path} holds another table (rows of {model}; this command writes "
                                     f"{self.model}): choose another output file or delete it")
            good.append(line)
            offset += len(line.encode("utf-8"))
        return pd.read_csv(io.StringIO("".join(good)), keep_default_na=True)

    def _valid(self, line):
        try:
            fields = next(csv.reader([line]))
        except (csv.Error, StopIteration):
            return False
        if len(fields) != len(self.columns):
            return False
        row = dict(zip(self.columns, fields))
        for name, value in row.items():
            if name in _TEXT_COLUMNS or value == "":
                continue
            try:
                float(value)
            except ValueError:
                return False
        if any(row.get(k, "") == "" for k in self.key):
            return False
        if "status" in row and row["status"] not in {s.value for s in Status}:
            return False
        if row.get("converged", "True") not in ("True", "False"):
            return False
        if row.get("quadrature"):
            try:
                Quadrature.from_text(row["quadrature"])
            except (ValueError, TypeError):
                return False
        return True

    def _cut(self, offset, number):
        with open(self.partial, "r+b") as fh:
            fh.truncate(offset)
        print(f"replica: {self.partial}: line {number} is torn or malformed; cut it off (and anything after it): "
              "those rows are recomputed", file=sys.stderr)

    # ----- writing -----------------------------------------------------------------------------------------------
    def append(self, row):
        """Write one row (a dict with the table's columns) and flush it to disk."""
        if self._fh is None:
            new = not self.partial.exists() or self.partial.stat().st_size == 0
            self._fh = open(self.partial, "a", newline="")
            if new:
                csv.writer(self._fh).writerow(self.columns)
        csv.writer(self._fh).writerow([_cell(row.get(c)) for c in self.columns])
        self._fh.flush()
        os.fsync(self._fh.fileno())
        if self.path.suffix == ".parquet":
            self._rows.append(row)

    def close(self):
        """Close the file; a Parquet target is written from every row and its partial CSV removed."""
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if self.path.suffix == ".parquet" and (self._rows or self.partial.exists()):
            pd.DataFrame(self._rows, columns=self.columns).to_parquet(self.path, index=False)
            self.partial.unlink(missing_ok=True)


def _cell(value):
    """A CSV cell: '' for a missing or non-finite number, the value's text otherwise (a str enum as its value)."""
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, Status):
        return value.value
    return value
