"""A test double for an upstream (intel-xpu-backend-for-triton) checkout: a small real git repository with the
parts upstream/check reads -- upstream's formatter configuration (pyproject.toml, .clang-format), a
python/triton package, third_party/intel/backend and python/test/unit/intel -- and helpers that write
synthetic patch series for it (git format-patch output in a folder with BASE, series and patches/).
"""
import subprocess
import textwrap
from pathlib import Path

# The parts of upstream's pyproject.toml at BASE that its formatters and mypy read.
PYPROJECT = textwrap.dedent("""\
    [tool.mypy]
    mypy_path = "$MYPY_CONFIG_FILE_DIR/python"
    files = ["python/triton/knobs.py"]
    follow_imports = "silent"

    [tool.yapf]
    based_on_style = "pep8"
    column_limit = 120
    disable_split_list_with_comment = true
    each_dict_entry_on_separate_line=false
    split_before_named_assigns = false
    split_complex_comprehension = true

    [tool.ruff]
    line-length = 120

    [tool.ruff.lint]
    ignore = ["E501", "E701", "E731", "E741"]
    """)

# The shape of upstream's knobs.py that upstream/check compares: classes of env_* declarations.
KNOBS = textwrap.dedent("""\
    from typing import Optional


    class env_bool:

        def __init__(self, key: str, default: bool = False) -> None:
            self.key, self.default = key, default


    class env_opt_str:

        def __init__(self, key: str) -> None:
            self.key = key


    class intel_knobs:
        dump_shader_info: env_bool = env_bool("TRITON_INTEL_ENABLE_IGC_SHADER_DUMP", False)
        gen_native_code: env_bool = env_bool("TRITON_XPU_GEN_NATIVE_CODE", False)

        device_arch: env_opt_str = env_opt_str("TRITON_INTEL_DEVICE_ARCH")


    SPILL_THRESHOLD: Optional[int] = 16
    """)

BASE_FILES = {
    "pyproject.toml": PYPROJECT,
    ".clang-format": "BasedOnStyle: LLVM\n",
    "python/triton/__init__.py": "",
    "python/triton/knobs.py": KNOBS,
    "third_party/intel/backend/__init__.py": "",
    "python/test/unit/intel/__init__.py": "",
}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test double", "-c", "user.email=double@invalid",
                           "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True,
                          timeout=60).stdout.strip()


def write(repo: Path, files: dict) -> None:
    for rel, text in files.items():
        path = repo / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


class UpstreamDouble:
    """The repository (its first commit is BASE) and a series folder upstream/check takes as --series-dir."""

    def __init__(self, root: Path):
        self.repo = root / "upstream"
        self.series_dir = root / "series"
        self.repo.mkdir()
        git(self.repo, "init", "-q", "-b", "main")
        write(self.repo, BASE_FILES)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "base")
        self.base = git(self.repo, "rev-parse", "HEAD")
        self.commits = {}   # patch file name -> the commit it was made from
        (self.series_dir / "patches").mkdir(parents=True)
        (self.series_dir / "BASE").write_text(self.base + "\n")
        (self.series_dir / "series").write_text("")

    def commit_base(self, files: dict) -> None:
        """Adds FILES to upstream before any patch is made: BASE becomes that commit."""
        git(self.repo, "checkout", "-q", "--detach", self.base)
        write(self.repo, files)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "more base")
        self.base = git(self.repo, "rev-parse", "HEAD")
        (self.series_dir / "BASE").write_text(self.base + "\n")

    def commit_of(self, name: str) -> str:
        return self.commits[name]

    def add_patch(self, subject: str, files: dict, trailers: str = "", parent: str = None) -> str:
        """Commits `files` on `parent` (default BASE), appends its format-patch file to the series, returns
        the file's name.  The repository is left at BASE."""
        number = len((self.series_dir / "series").read_text().split()) + 1
        git(self.repo, "checkout", "-q", "--detach", parent or self.base)
        write(self.repo, files)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", f"{subject}\n\n## Problem\nA test.\n\n{trailers}".rstrip() + "\n")
        out = git(self.repo, "format-patch", "-1", f"--start-number={number}", "-o", str(self.series_dir / "patches"))
        name = Path(out.splitlines()[-1]).name
        self.commits[name] = git(self.repo, "rev-parse", "HEAD")
        git(self.repo, "checkout", "-q", "--detach", self.base)
        with open(self.series_dir / "series", "a") as series:
            series.write(name + "\n")
        return name

    def commit_elsewhere(self, files: dict) -> str:
        """A commit on BASE that is not in the series (for a patch made against the wrong parent)."""
        git(self.repo, "checkout", "-q", "--detach", self.base)
        write(self.repo, files)
        git(self.repo, "add", "-A")
        git(self.repo, "commit", "-q", "-m", "elsewhere")
        sha = git(self.repo, "rev-parse", "HEAD")
        git(self.repo, "checkout", "-q", "--detach", self.base)
        return sha


def run_check(double: "UpstreamDouble") -> tuple:
    """upstream/check on the double's series: (exit status, its output)."""
    from upstream_series import SERIES_DIR
    proc = subprocess.run([str(SERIES_DIR / "check"), "--series-dir", str(double.series_dir), str(double.repo)],
                          capture_output=True, text=True, timeout=900)
    return proc.returncode, proc.stdout + proc.stderr
