"""Options shared by the commands that need a CLIP model (embed, search, similar)."""

from __future__ import annotations

import argparse


def add_model_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("model")
    group.add_argument(
        "--model",
        metavar="NAME",
        help="open_clip architecture (e.g. ViT-B-32), `tiny-clip` (the small demo/test model "
        "that ships with the app), local-dir:/folder or hf-hub:org/repo[@revision] "
        "(settings: model.name; env ANAGNORISIS_MODEL)",
    )
    group.add_argument(
        "--pretrained",
        metavar="TAG_OR_PATH",
        help="open_clip pretrained tag (downloaded once, needs internet) or a local weights "
        "file or folder (settings: model.pretrained; env ANAGNORISIS_PRETRAINED)",
    )
    group.add_argument(
        "--device",
        metavar="DEVICE",
        help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:N or mps (settings: "
        "model.device; env ANAGNORISIS_DEVICE)",
    )


def settings_with_model(args: argparse.Namespace):
    from anagnorisis_tui.cli import settings_from_args

    return settings_from_args(
        args,
        model=getattr(args, "model", None),
        pretrained=getattr(args, "pretrained", None),
        device=getattr(args, "device", None),
    )
