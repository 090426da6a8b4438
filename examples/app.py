"""A small application that shares the deploy profiles: run it as

    python examples/app.py [HOST:PORT]

Without a host it starts the bundled emulator, so it runs anywhere.
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import lmstudio as lms

import lmsprofiles

PROFILES = Path(__file__).resolve().parent.parent / "profiles"


@contextlib.contextmanager
def lm_studio(host: str | None) -> Iterator[tuple[str, str | None]]:
    """Session arguments for the given host, or for a throwaway emulator when none is given
    (with a throwaway state dir, so its ownership records do not outlive it)."""
    if host:
        yield host, None
        return
    from lmsprofiles.emulator import Emulator

    with Emulator().running() as emulator, tempfile.TemporaryDirectory() as state:
        yield emulator.host, state


def main(host: str | None = None) -> int:
    profiles = lmsprofiles.load(PROFILES)  # parsed and validated once

    # Per-request config: the call-site override wins over every layer.
    cfg = profiles.resolve("qwen-chat", request="creative", maxTokens=64)
    print("temperature", cfg.inference["temperature"], "from", cfg.origin("inference.temperature"))

    with (
        lm_studio(host) as (address, state_dir),
        lmsprofiles.connect(profiles, host=address, state_dir=state_dir) as session,
    ):
        # Reuse the loaded instance if it fits the profile, else load it.
        model = session.llm("qwen-chat")
        reply = model.respond("Write a haiku about configuration.", config=cfg.inference)
        print("reply:", reply.content)

        # Resolve, get the handle and call the SDK in one go; the overlay's JSON schema
        # makes the SDK parse the output.
        chat = lms.Chat("You extract contact details.")
        chat.add_user_message("Ann Lee, ann@example.com, +1 555 0100")
        contact = session.respond("qwen-chat", chat, request="extract-json")
        print("parsed:", contact.parsed)

        vector = session.embed("embed", "configuration as code")
        print("embedding dimensions:", len(vector))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else None))
