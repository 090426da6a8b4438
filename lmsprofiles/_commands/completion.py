"""``lmsprofiles completion``: print a shell completion script for bash, zsh or fish."""

from __future__ import annotations

import argparse
import sys


def configure(parser: argparse.ArgumentParser) -> None:
    """Add the options of ``completion``."""
    parser.add_argument("shell", choices=("bash", "zsh", "fish"), help="the shell")
    parser.epilog = (
        "Install: bash: lmsprofiles completion bash > "
        "~/.local/share/bash-completion/completions/lmsprofiles\n"
        '         zsh:  lmsprofiles completion zsh > "${fpath[1]}/_lmsprofiles"\n'
        "         fish: lmsprofiles completion fish > ~/.config/fish/completions/lmsprofiles.fish"
        "\n\n" + (parser.epilog or "")
    )


def run(args: argparse.Namespace) -> int:
    """Print the script and return 0."""
    from lmsprofiles._cli import build_parser
    from lmsprofiles._completion import script

    sys.stdout.write(script(build_parser(), args.shell))
    return 0
