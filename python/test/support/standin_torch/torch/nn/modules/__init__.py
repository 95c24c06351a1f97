"""torch.nn.modules of the stand-in torch (TEST DOUBLE)."""
from . import loss  # noqa: F401
