"""torch.nn.modules.loss of the stand-in torch (TEST DOUBLE)."""
from .. import Module

_Loss = _WeightedLoss = Module
