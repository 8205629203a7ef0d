r"""PyTorch side of ``benchmarks/train_throughput.py``: one (case, variant) timing, printed as JSON.

Runs in its own process and its own virtualenv (torch and numpy only; jaxnets is not imported),
so that neither framework's thread pool slows the other::

  python -m venv /work/venvs/torch && /work/venvs/torch/bin/pip install torch==2.13.0 numpy
  /work/venvs/torch/bin/python benchmarks/torch_throughput.py --case=resnet20 --variant=eager

The networks are written to match the jaxnets models of the same case layer for layer (same
parameter count, printed with the timing): PyTorch's NCHW layout, jaxnets' NHWC. Variants:
``eager``; ``channels_last`` (NHWC memory format for the 2-D convolution cases); ``compile``
(``torch.compile`` of the model, default mode).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

# Run as a script from the repository root: make ``benchmarks`` importable for the timing rule.
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from benchmarks.timing import median_seconds  # noqa: E402

# name -> (input shape without batch, NHWC / NWC as in jaxnets; batch size)
SHAPES = {
    "mnist1d_cnn": ((40, 1), 100), "mnist1d_mlp": ((40, 1), 100),
    "digits_cnn2d": ((8, 8, 1), 64), "cifar_cnn2d": ((32, 32, 3), 128),
    "lenet5": ((28, 28, 1), 128), "resnet20": ((32, 32, 3), 128), "unet": ((32, 32, 3), 16),
}


class BasicBlock(nn.Module):
  """He et al. 2016's CIFAR block with the option-A shortcut (subsample, zero channels)."""

  def __init__(self, c_in: int, c_out: int, stride: int):
    super().__init__()
    self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
    self.bn1 = nn.BatchNorm2d(c_out, momentum=0.1, eps=1e-5)
    self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
    self.bn2 = nn.BatchNorm2d(c_out, momentum=0.1, eps=1e-5)
    self.stride, self.extra = stride, c_out - c_in

  def forward(self, x):
    y = F.relu(self.bn1(self.conv1(x)))
    y = self.bn2(self.conv2(y))
    s = x[:, :, ::self.stride, ::self.stride]
    if self.extra:
      s = F.pad(s, (0, 0, 0, 0, self.extra // 2, self.extra - self.extra // 2))
    return F.relu(y + s)


class ResNet20(nn.Module):
  def __init__(self, num_classes: int = 10):
    super().__init__()
    self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16),
                              nn.ReLU())
    blocks, c_in = [], 16
    for i, c in enumerate((16, 32, 64)):
      for j in range(3):
        blocks.append(BasicBlock(c_in, c, 2 if i > 0 and j == 0 else 1))
        c_in = c
    self.blocks = nn.Sequential(*blocks)
    self.head = nn.Linear(64, num_classes)

  def forward(self, x):
    return self.head(self.blocks(self.stem(x)).mean(dim=(2, 3)))


def _conv_block(c_in: int, c_out: int) -> nn.Module:
  return nn.Sequential(nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(),
                       nn.Conv2d(c_out, c_out, 3, padding=1), nn.ReLU())


class UNet(nn.Module):
  """jaxnets.models.segmentation.UNet(width=16, depth=3): max-pool down, 2x2 transposed-conv
  up (halving channels), skip concatenation [skip, up], 1x1 logits."""

  def __init__(self, num_classes: int = 4, c_in: int = 3, width: int = 16, depth: int = 3):
    super().__init__()
    self.down = nn.ModuleList()
    c = c_in
    for i in range(depth):
      self.down.append(_conv_block(c, width * 2 ** i))
      c = width * 2 ** i
    self.bottleneck = _conv_block(c, width * 2 ** depth)
    c = width * 2 ** depth
    self.up, self.dec = nn.ModuleList(), nn.ModuleList()
    for i in reversed(range(depth)):
      f = width * 2 ** i
      self.up.append(nn.ConvTranspose2d(c, f, 2, stride=2))
      self.dec.append(_conv_block(2 * f, f))
      c = f
    self.logits = nn.Conv2d(c, num_classes, 1)

  def forward(self, x):
    skips = []
    for block in self.down:
      x = block(x)
      skips.append(x)
      x = F.max_pool2d(x, 2)
    x = self.bottleneck(x)
    for up, dec, skip in zip(self.up, self.dec, reversed(skips)):
      x = dec(torch.cat([skip, up(x)], dim=1))
    return self.logits(x)


def build(case: str) -> nn.Module:
  """The PyTorch twin of the case's jaxnets model."""
  if case == "mnist1d_cnn":
    return nn.Sequential(
        nn.Conv1d(1, 25, 5, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(),
        nn.Conv1d(25, 25, 3, stride=2, padding=1), nn.ReLU(), nn.Flatten(), nn.Linear(125, 10))
  if case == "mnist1d_mlp":
    return nn.Sequential(nn.Flatten(), nn.Linear(40, 100), nn.ReLU(), nn.Linear(100, 100),
                         nn.ReLU(), nn.Linear(100, 10))
  if case in ("digits_cnn2d", "cifar_cnn2d"):
    c = SHAPES[case][0][-1]
    return nn.Sequential(
        nn.Conv2d(c, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2, ceil_mode=True),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
  if case == "lenet5":
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Tanh(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.Tanh(), nn.AvgPool2d(2), nn.Flatten(),
        nn.Linear(400, 120), nn.Tanh(), nn.Linear(120, 84), nn.Tanh(), nn.Linear(84, 10))
  if case == "resnet20":
    return ResNet20()
  if case == "unet":
    return UNet()
  raise SystemExit(f"error: unknown case {case!r}; known: {', '.join(SHAPES)}")


def examples_per_s(case: str, variant: str, steps: int, repeats: int, threads: int) -> dict:
  torch.set_num_threads(threads)
  torch.manual_seed(0)
  shape, batch = SHAPES[case]
  net = build(case)
  params = sum(p.numel() for p in net.parameters())
  image2d = len(shape) == 3
  if variant == "channels_last" and not image2d:
    return {"skipped": "channels_last applies to 2-D images only", "params": params}
  if case == "resnet20":
    opt = torch.optim.SGD(net.parameters(), lr=0.1, momentum=0.9)
  else:
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
  rng = np.random.default_rng(0)
  # NHWC / NWC host batches, as jaxnets gets them; moved to NCHW / NCW per step
  to_torch = (lambda x: x.transpose(0, 3, 1, 2)) if image2d else (lambda x: x.transpose(0, 2, 1))
  label_shape = (batch, *shape[:2]) if case == "unet" else (batch,)
  num_classes = 4 if case == "unet" else 10
  batches = [(rng.normal(size=(batch, *shape)).astype(np.float32),
              rng.integers(0, num_classes, size=label_shape)) for _ in range(8)]
  fmt = torch.channels_last if variant == "channels_last" else torch.contiguous_format
  if variant == "channels_last":
    net = net.to(memory_format=torch.channels_last)
  model = torch.compile(net) if variant == "compile" else net
  net.train()

  def run(n=steps):
    for i in range(n):
      x, y = batches[i % 8]
      xt = torch.from_numpy(np.ascontiguousarray(to_torch(x)))
      if image2d:
        xt = xt.contiguous(memory_format=fmt)
      opt.zero_grad(set_to_none=True)
      loss = F.cross_entropy(model(xt), torch.from_numpy(y))
      loss.backward()
      opt.step()

  seconds = median_seconds(run, repeats, warmup=lambda: run(5))  # warm-up compiles
  return {"examples_per_s": steps * batch / seconds, "params": params,
          "torch": torch.__version__, "threads": torch.get_num_threads()}


def main() -> None:
  parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
  parser.add_argument("--case", required=True, choices=sorted(SHAPES))
  parser.add_argument("--variant", default="eager", choices=["eager", "channels_last", "compile"])
  parser.add_argument("--steps", type=int, default=200)
  parser.add_argument("--repeats", type=int, default=3)
  parser.add_argument("--threads", type=int, default=2)
  args = parser.parse_args()
  print(json.dumps(examples_per_s(args.case, args.variant, args.steps, args.repeats,
                                  args.threads)))


if __name__ == "__main__":
  main()
