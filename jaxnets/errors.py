"""The one exception type users see for bad input; its message is a single line."""


class JaxnetsError(ValueError):
  """Bad user input (unknown name, impossible value, missing data).

  Entry points print ``str(error)`` as one line and exit with status 2, never a traceback.
  The message says what was wrong and how to fix it.
  """


def unknown_name(kind: str, name: str, known) -> JaxnetsError:
  """The error for an unknown registry key, listing the known ones."""
  return JaxnetsError(f"unknown {kind} {name!r}; known {kind}s: {', '.join(sorted(known))}")
