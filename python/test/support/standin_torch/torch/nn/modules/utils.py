"""torch.nn.modules.utils of the stand-in torch (TEST DOUBLE): the tuple helpers, as in torch."""


def _ntuple(n):
    def parse(x):
        return tuple(x) if isinstance(x, (list, tuple)) else (x, ) * n
    return parse


_single, _pair, _triple, _quadruple = _ntuple(1), _ntuple(2), _ntuple(3), _ntuple(4)
