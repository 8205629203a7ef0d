"""What every entry point shares: one error wrapper, one exit status, one output-directory flag.

Every ``python -m experiments.*`` / ``benchmarks.*`` script runs its ``main`` through
:func:`run`. Bad input -- an unknown name, an impossible value, a missing or broken config file,
a workdir that holds another model's checkpoint, data that is not prepared, a configuration
whose training diverges -- prints exactly one line ``error: <what was wrong and how to fix
it>`` on stderr and exits with status :data:`USER_ERROR` (2), never a traceback. Status 1 is
reserved for "ran, but a check failed" (the theory report); anything else is a bug.

Scripts that write a report (tables, JSON, figures) take ``--outdir``; scripts that train and
checkpoint take ``--workdir`` (reruns resume from it, and its report is written there too).
"""

from __future__ import annotations

import pathlib
import sys
from typing import Callable, NoReturn

from absl import app, flags

USER_ERROR = 2  # the exit status of every entry point for bad input

_OUTDIR = flags.DEFINE_string(
    "outdir", None, "Where the report (table, JSON, figures) is written; default: "
    "reports/<script name>.")


def fail(message: str) -> NoReturn:
  """Prints ``error: <message>`` (one line) and exits with :data:`USER_ERROR`."""
  line = " ".join(str(message).split())  # one line, whatever the message held
  print(f"error: {line}", file=sys.stderr, flush=True)
  sys.exit(USER_ERROR)


def _config_error(e: BaseException) -> str | None:
  """The one-line description of a config file that failed to load, or None."""
  if isinstance(e, SyntaxError):
    where = f"{e.filename}:{e.lineno}" if e.filename else "the config file"
    return f"the --config file has a syntax error at {where}: {e.msg}; fix it and rerun"
  if isinstance(e, OSError):
    reason = str(e).strip().splitlines()[-1].strip() if str(e).strip() else type(e).__name__
    return f"cannot load the --config file: {reason}"
  return None


def parse_flags(argv: list[str]) -> list[str]:
  """Parses flags; a bad flag, config file or override exits with one line."""
  try:
    return flags.FLAGS(argv)
  except flags.Error as e:
    cause = e.__cause__ or e.__context__
    message = _config_error(cause) if cause is not None else None
    fail(message or str(e))
  except (AttributeError, KeyError) as e:
    # ml_collections raises these for an override of a field the config does not have.
    fail(f"the config has no field {str(e).strip(chr(34))}; check the spelling of the "
         f"--config.<field> override against the config file's get_config()")
  except (SyntaxError, OSError) as e:
    fail(_config_error(e))
  except (TypeError, ValueError) as e:
    fail(f"bad flag or --config override: {e}")


def load_config(holder) -> "ml_collections.ConfigDict":  # noqa: F821 (lazy import)
  """The value of a ``config_flags`` flag; a config file that fails to load exits with one
  line (ml_collections loads the file lazily, on first access)."""
  try:
    config = holder.value
    config.get("seed")  # a file that failed to load raises its error here
    return config
  except (SyntaxError, OSError) as e:
    fail(_config_error(e))
  except Exception as e:  # noqa: BLE001 -- get_config() itself raised: the user's file
    fail(f"the --config file's get_config() raised {type(e).__name__}: {e}")


def outdir(default: str) -> pathlib.Path:
  """``--outdir``, or ``default`` when it was not given."""
  return pathlib.Path(_OUTDIR.value or default)


def command_line(module: str) -> str:
  """``python -m <module> <the flags this process was started with>``: printed under a report,
  so that every number in it comes with the command that produced it."""
  return " ".join(["python -m", module] + [a for a in sys.argv[1:] if a.startswith("--")])


def run(main: Callable[[list[str]], int | None]) -> None:
  """``app.run(main)`` with the shared flag parser and one-line errors for bad input.

  ``main(argv)`` may return an exit status. ``JaxnetsError`` and ``TrainingDiverged`` (and a
  config file that fails to load) become ``error: ...`` and status :data:`USER_ERROR`.
  """
  from jaxnets.errors import JaxnetsError
  from jaxnets.train.engine import TrainingDiverged

  def wrapped(argv: list[str]) -> int | None:
    if len(argv) > 1:
      fail(f"unexpected arguments: {' '.join(argv[1:])}; flags take the form --name=value")
    try:
      return main(argv)
    except (JaxnetsError, TrainingDiverged) as e:
      fail(str(e))

  app.run(wrapped, flags_parser=parse_flags)


__all__ = ["USER_ERROR", "command_line", "fail", "load_config", "outdir", "parse_flags", "run"]
