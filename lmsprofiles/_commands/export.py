"""``lmsprofiles export``: a resolved model config in LM Studio's own formats."""

from __future__ import annotations

import argparse
import sys

from lmsprofiles._commands._options import add_globals, load_profiles


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``export``."""
    add_globals(parser, "profiles", "no_cache")
    parser.add_argument("model", metavar="NAME", help="instance identifier of the model")
    parser.add_argument("--request", metavar="KIND", help="apply this request overlay")
    parser.add_argument(
        "--format",
        choices=("preset", "model-yaml", "lms-load", "json"),
        required=True,
        help="preset: a *.preset.json the LM Studio app imports; model-yaml: a model.yaml "
        "config block; lms-load: an `lms load` line; json: the configs the SDK is given",
    )


def run(args: argparse.Namespace) -> int:
    """Print the export and a warning naming what it cannot carry; return 0, raise
    ``ProfileError`` for bad input."""
    from lmsprofiles._interop._export import export_text

    profiles = load_profiles(args)
    cfg = profiles.resolve(args.model, args.request)
    exported = export_text(cfg, args.format)
    sys.stdout.write(exported.text)
    if exported.warning:
        sys.stdout.flush()  # the warning after the text, also where both go to one file
        sys.stderr.write(exported.warning)
    return 0
