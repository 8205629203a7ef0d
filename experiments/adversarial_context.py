r"""The course's context figure: ILSVRC classification winners' top-5 error by year.

    python -m experiments.adversarial_context --outdir=docs/figures

Writes ``imagenet_top5_error.png`` and ``imagenet_top5_error.md`` (the numbers and their
sources) to ``--outdir`` (default ``docs/figures``). The numbers are the winning entries' top-5 test
error of the ILSVRC classification task: 2010-2014 from Russakovsky et al. (2015), "ImageNet
Large Scale Visual Recognition Challenge", IJCV 115 (2010 NEC-UIUC 28.2, 2011 XRCE 25.8, 2012
SuperVision 16.4, 2013 Clarifai 11.7, 2014 GoogLeNet 6.7), 2015 from He et al. (2016), "Deep
Residual Learning for Image Recognition", CVPR (ResNet ensemble 3.57); 2016 (Trimps-Soushen,
2.99) and 2017 (SENet, 2.25) from the ILSVRC 2016 / 2017 results pages (image-net.org). The
human error (about 5.1%) is the trained annotator of Russakovsky et al. (2015).
"""

from __future__ import annotations

from jaxnets import cli

# year -> (winner, top-5 error %, source)
WINNERS = {
    2010: ("NEC-UIUC", 28.2, "Russakovsky et al. 2015"),
    2011: ("XRCE", 25.8, "Russakovsky et al. 2015"),
    2012: ("SuperVision (AlexNet)", 16.4, "Russakovsky et al. 2015"),
    2013: ("Clarifai", 11.7, "Russakovsky et al. 2015"),
    2014: ("GoogLeNet", 6.7, "Russakovsky et al. 2015"),
    2015: ("ResNet (MSRA)", 3.57, "He et al. 2016"),
    2016: ("Trimps-Soushen", 2.99, "ILSVRC 2016 results"),
    2017: ("SENet (WMW)", 2.25, "ILSVRC 2017 results"),
}
HUMAN = (5.1, "Russakovsky et al. 2015")


def draw(path) -> None:
  import matplotlib
  matplotlib.use("Agg")
  import matplotlib.pyplot as plt

  years = sorted(WINNERS)
  errors = [WINNERS[y][1] for y in years]
  fig, ax = plt.subplots(figsize=(6.4, 3.8))
  ax.bar(years, errors, color=["C0" if y != 2012 else "C3" for y in years])
  for y, e in zip(years, errors):
    ax.text(y, e + 0.5, f"{e:g}", ha="center", fontsize=8)
  ax.axhline(HUMAN[0], color="k", ls="--", lw=1)
  ax.text(years[-1] + 0.45, HUMAN[0] + 0.4, f"human ~{HUMAN[0]}", ha="right", fontsize=8)
  ax.set(xlabel="ILSVRC year", ylabel="winner's top-5 error (%)", xticks=years,
         title="ImageNet classification: winners' top-5 error (red: first deep CNN)")
  fig.text(0.01, 0.01, "Sources: Russakovsky et al. 2015 (IJCV); He et al. 2016 (CVPR); "
           "ILSVRC 2016/2017 results", fontsize=6)
  fig.tight_layout(rect=(0, 0.03, 1, 1))
  fig.savefig(path, dpi=100)
  plt.close(fig)


def main(argv: list[str]) -> None:
  del argv
  outdir = cli.outdir("docs/figures")
  if outdir.exists() and not outdir.is_dir():
    cli.fail(f"--outdir {outdir} is a file; name a directory")
  outdir.mkdir(parents=True, exist_ok=True)
  draw(outdir / "imagenet_top5_error.png")
  rows = ["| year | winner | top-5 error (%) | source |", "|---|---|---|---|"]
  rows += [f"| {y} | {w} | {e:g} | {s} |" for y, (w, e, s) in sorted(WINNERS.items())]
  rows.append(f"| — | human annotator | {HUMAN[0]:g} | {HUMAN[1]} |")
  text = "\n".join(rows) + f"\n\n`{cli.command_line('experiments.adversarial_context')}`\n"
  (outdir / "imagenet_top5_error.md").write_text(text)
  print(text)


if __name__ == "__main__":
  cli.run(main)
