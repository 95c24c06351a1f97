"""Exceptions the Intel backend raises, one per kind of failure a user can act on."""


class IntelBackendError(RuntimeError):
    """Base of every error the Intel backend raises on purpose."""


class TargetError(IntelBackendError, ValueError):
    """An unknown or malformed Intel GPU target."""


class ToolNotFoundError(IntelBackendError, FileNotFoundError):
    """A system tool (ocloc, spirv-dis, iga64, ...) the backend needs is not installed."""


class CompilationError(IntelBackendError):
    """A stage of the Intel pipeline failed; carries the log and a way to reproduce it."""

    def __init__(self, message: str, log: str = "", repro: str = ""):
        self.log = log
        self.repro = repro
        text = message
        if log:
            text += f"\n--- build log ---\n{log.rstrip()}\n-----------------"
        if repro:
            text += f"\nRepro: {repro}"
        super().__init__(text)


class ZebinFormatError(IntelBackendError, ValueError):
    """Bytes that are not a usable zebin: not ELF, another machine's ELF, truncated, or without kernels."""


class PointerArgumentError(IntelBackendError, ValueError):
    """A launch's pointer argument is not memory the device can use (host, freed or another context's)."""
