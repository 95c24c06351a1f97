"""torch.nn.functional of the corpus's stand-in torch (TEST DOUBLE): every function raises when called."""


def __getattr__(name: str):
    if name.startswith("__"):
        raise AttributeError(name)

    def call(*args, **kwargs):
        raise NotImplementedError(f"torch.nn.functional.{name} called on the corpus's stand-in torch")
    call.__name__ = name
    return call
