"""The desk's errors: one small rooted hierarchy carrying data, mapped to gRPC status only at the edge."""

from __future__ import annotations

from dataclasses import dataclass


class DeskError(Exception):
    """Root of every error the desk raises on purpose."""


class ConfigurationError(DeskError):
    """Settings are missing or malformed; the process cannot start."""


class PortInUse(ConfigurationError):
    """A port the desk would listen on is taken; the message names the setting that moves it."""

    def __init__(self, port: int, *, owner: str = "", setting: str = "") -> None:
        self.port = port
        self.owner = owner
        self.setting = setting
        taken = f"port {port} for {owner} is in use" if owner else f"port {port} is in use"
        super().__init__(f"{taken}: set {setting} to a free port" if setting else taken)

    def of(self, owner: str, setting: str) -> PortInUse:
        """The same error, naming what wanted the port and the setting that chooses it."""
        return PortInUse(self.port, owner=owner, setting=setting)


@dataclass(frozen=True)
class FieldViolation:
    field: str
    description: str


class InvalidArgument(DeskError):
    """Bad input; each violation names its field (sent as google.rpc.BadRequest)."""

    def __init__(self, violations: list[FieldViolation]) -> None:
        self.violations = violations
        super().__init__("; ".join(f"{v.field}: {v.description}" for v in violations))

    @classmethod
    def one(cls, field: str, description: str) -> InvalidArgument:
        return cls([FieldViolation(field, description)])


class NotFound(DeskError):
    def __init__(self, kind: str, key: str) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"{kind} {key!r} not found")


class AlreadyExists(DeskError):
    """What the request would create is there already, made by another request (ALREADY_EXISTS)."""


class TransitionNotAllowed(DeskError):
    """The request is valid but not allowed in the current state (FAILED_PRECONDITION)."""


class Unauthenticated(DeskError):
    pass


class PermissionDenied(DeskError):
    pass


class Unavailable(DeskError):
    """A backing service did not answer in time; the caller may retry after `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float = 1.0) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class Overloaded(DeskError):
    """More work waits than the desk takes on now (RESOURCE_EXHAUSTED); retry after `retry_after` s."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        self.retry_after = retry_after
        super().__init__(message)


class InternalError(DeskError):
    """A defect met while serving: the caller learns only that it happened, the log has the rest."""


class Unimplemented(DeskError):
    """An RPC of the contract that a later issue builds."""

    def __init__(self, rpc: str) -> None:
        super().__init__(f"{rpc} is not implemented yet")
