"""A test double of PyTorch for upstream tests that import torch only to ask about devices or name its types.

Used by upstream/pytest-upstream when UPSTREAM_STANDIN_TORCH=1 (upstream/check does so for the files of
upstream/tests-standin-torch).  It answers like a CPU-only torch: no XPU, no CUDA, no HIP, so Triton finds no
active driver.  Anything more (tensors, kernels) is not here on purpose: a test reaching for it fails with an
AttributeError naming this module instead of passing against a fake device.
"""
__version__ = "0.0.0+standin"


class Tensor:
    pass


class dtype:
    pass


class _NoDevice:
    """torch.xpu / torch.cuda of a build without that device."""

    @staticmethod
    def is_available():
        return False

    @staticmethod
    def device_count():
        return 0


xpu = _NoDevice()
cuda = _NoDevice()


class version:
    cuda = None
    hip = None
    xpu = None
