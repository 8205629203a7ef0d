"""The public list in ``theory/__init__.py`` names only what exists, and misses no public function."""

import importlib
import inspect
import pkgutil
import re

import theory


def _listed() -> dict[str, list[str]]:
  listed, module = {}, None
  for line in theory.__doc__.splitlines():
    header = re.match(r"``theory\.(\w+)``", line)
    if header:
      module = header.group(1)
      listed[module] = []
    elif module and re.match(r"  \w+: ", line):
      listed[module].append(line.split(":")[0].strip())
  return listed


def test_every_listed_name_exists_and_every_public_function_is_listed():
  listed = _listed()
  internal = {"kernel_activations", "kernel_branches", "kernel_layers", "kernel_pooling",
              "ntk_blocks", "ntk_structured"}  # re-exported by kernels / used by ntk
  modules = {m.name for m in pkgutil.iter_modules(theory.__path__)} - internal
  assert set(listed) == modules, set(listed) ^ modules
  for module_name, names in listed.items():
    module = importlib.import_module(f"theory.{module_name}")
    missing = [n for n in names if not hasattr(module, n)]
    assert not missing, f"theory.{module_name} lists {missing}, which do not exist"
    public = [n for n, v in vars(module).items()
              if not n.startswith("_") and inspect.isfunction(v) and v.__module__ == module.__name__]
    unlisted = sorted(set(public) - set(names) - {"default_optimizer", "check_positive"})
    assert not unlisted, f"theory.{module_name} does not list {unlisted}"
