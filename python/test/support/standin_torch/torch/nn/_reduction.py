"""torch.nn._reduction of the stand-in torch (TEST DOUBLE)."""


def get_enum(reduction: str) -> int:
    return {"none": 0, "mean": 1, "elementwise_mean": 1, "sum": 2}[reduction]
