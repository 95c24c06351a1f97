"""knobs.py: every environment knob is read one way; a bad value is an error naming the knob, the value and
what it should be, never silently the default."""

from pathlib import Path

import pytest

from triton.backends.intel import knobs, options


def test_unset_and_empty_give_the_default(monkeypatch):
    monkeypatch.delenv("TRITON_XPU_TEST_KNOB", raising=False)
    assert knobs.number("TRITON_XPU_TEST_KNOB", 7, "a number") == 7
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", "  ")
    assert knobs.number("TRITON_XPU_TEST_KNOB", 7, "a number") == 7
    assert knobs.flag("TRITON_XPU_TEST_KNOB", True, "whether") is True
    assert knobs.choice("TRITON_XPU_TEST_KNOB", ("auto", "0")) == "auto"


@pytest.mark.parametrize("value, kind, valid, expected", [("12", int, None, 12), (" 0.5 ", float, None, 0.5),
                                                          ("2.5", float, lambda v: v > 0, 2.5)])
def test_numbers_parse(monkeypatch, value, kind, valid, expected):
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", value)
    extra = {"valid": valid} if valid else {}
    assert knobs.number("TRITON_XPU_TEST_KNOB", 0, "a number", kind, **extra) == expected


@pytest.mark.parametrize("value, kind", [("1.5", int), ("soon", float), ("-3", float)])
def test_a_bad_number_names_the_knob_and_what_it_should_be(monkeypatch, value, kind):
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", value)
    with pytest.raises(ValueError) as info:
        knobs.number("TRITON_XPU_TEST_KNOB", 1, "a positive number of seconds", kind, valid=lambda v: v > 0)
    assert str(info.value) == f"TRITON_XPU_TEST_KNOB={value!r} is not a positive number of seconds"


@pytest.mark.parametrize("value, expected", [("1", True), ("Yes", True), ("on", True), ("0", False), ("off", False)])
def test_flags(monkeypatch, value, expected):
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", value)
    assert knobs.flag("TRITON_XPU_TEST_KNOB", not expected, "whether") is expected


def test_a_bad_flag_says_what_the_knob_decides(monkeypatch):
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", "maybe")
    with pytest.raises(ValueError, match=r"^TRITON_XPU_TEST_KNOB='maybe' is not 1 or 0 \(whether to test\)$"):
        knobs.flag("TRITON_XPU_TEST_KNOB", False, "whether to test")


def test_a_bad_choice_lists_the_choices(monkeypatch):
    monkeypatch.setenv("TRITON_XPU_TEST_KNOB", "Sometimes")
    with pytest.raises(ValueError, match=r"^TRITON_XPU_TEST_KNOB='sometimes': expected one of auto, 1, 0$"):
        knobs.choice("TRITON_XPU_TEST_KNOB", ("auto", "1", "0"))


def test_options_read_their_knobs_when_parsed(monkeypatch):
    monkeypatch.setenv(knobs.GRF_SPILL_THRESHOLD, "64")
    monkeypatch.setenv(knobs.GRF_MIN_GAIN, "0.25")
    monkeypatch.setenv(knobs.KEEP_IR, "1")
    parsed = options.XPUOptions()
    assert (parsed.grf_spill_threshold, parsed.grf_min_gain, parsed.keep_ir) == (64, 0.25, True)
    monkeypatch.setenv(knobs.GRF_MIN_GAIN, "1.5")
    with pytest.raises(ValueError, match=r"^TRITON_XPU_GRF_MIN_GAIN='1.5' is not a fraction between 0 and 1"):
        options.XPUOptions()


def test_every_knob_is_documented():
    page = (Path(__file__).resolve().parents[3] / "docs" / "knobs.md").read_text()
    declared = [v for k, v in vars(knobs).items() if k.isupper() and isinstance(v, str) and v.startswith("TRITON_")]
    assert len(declared) >= 10 and [v for v in declared if f"`{v}`" not in page] == []
