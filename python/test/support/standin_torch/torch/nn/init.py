"""torch.nn.init of the stand-in torch (TEST DOUBLE): every function raises when called."""

from torch import _raising_module_getattr

__getattr__ = _raising_module_getattr("nn.init")
