"""kosmo-clicksend: ClickSend tools for AI agents' Lua scripts, run in a sandboxed lupa runtime."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
