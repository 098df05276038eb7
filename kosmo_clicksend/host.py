"""Connect the Lua runtime to the ClickSend tools and the reference pages."""

from __future__ import annotations

from typing import Any

from .config import Permissions
from .docs import read_doc
from .errors import ClickSendError
from .policy import GuardedService
from .tools import ClickSendService

__all__ = ["ClickSendHost"]


class ClickSendHost:
    """The LuaHost of a script run: tool calls go through a GuardedService, doc pages to the renderer.

    Without ``guard``, every account may read and write, as a library caller that built the
    service itself expects; the CLI always passes the run's guard.
    """

    def __init__(self, service: ClickSendService, guard: GuardedService | None = None) -> None:
        self.service = service
        self.guard = guard or GuardedService(
            service, permissions={alias: Permissions("allow", "allow") for alias in service.aliases}
        )

    def call_tool(self, path: str, arguments: Any) -> tuple[str, str, dict[str, Any]]:
        """Resolve a Lua path, run the tool under the guard and return (tool name, account, result)."""
        target = self.service.resolve_path(path)
        try:
            result = self.guard.call(target, arguments)
        except ClickSendError as exc:
            # The call log names the account of a failed call too.
            exc.account = target.account  # type: ignore[attr-defined]
            raise
        return target.spec.name, target.account, result

    def read_doc(self, page: str) -> str:
        """Return a page of the Lua reference, listing this run's accounts."""
        return read_doc(page, self.service.aliases)
