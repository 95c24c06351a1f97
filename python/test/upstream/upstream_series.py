"""Reading the upstream patch series in upstream/ (BASE, series, patches/) for the form tests.

A patch is `git format-patch` output: an mbox "From <sha> Mon Sep 17 00:00:00 2001" line, From:/Date:/Subject:
headers, the commit message (the pull request's description, ending with `Tests:` and optionally
`Tests-need-GPU:` trailers), a `---` line, and the diff.
"""
import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional

REPO = Path(__file__).resolve().parents[3]
SERIES_DIR = REPO / "upstream"

MBOX_FROM = re.compile(r"^From [0-9a-f]{40} Mon Sep 17 00:00:00 2001$")
# format-patch prefixes "[PATCH]" or "[PATCH n/m]"; upstream's titles carry [XPU] or [Launcher] after it.
SUBJECT = re.compile(r"^Subject: (?:\[PATCH[^\]]*\] )?(\[(?:XPU|Launcher)\] .+)$")
DIFF_FILE = re.compile(r"^diff --git a/(\S+) b/(\S+)$", re.M)


@dataclass
class Patch:
    name: str
    text: str

    @property
    def lines(self) -> List[str]:
        return self.text.splitlines()

    def header(self, field: str) -> Optional[str]:
        """A header of the mail part (before the first blank line), its folded continuation lines joined, or
        None."""
        headers = self.text.split("\n\n", 1)[0].splitlines()[1:]
        for i, line in enumerate(headers):
            if line.startswith(field + ": "):
                folded = [line[len(field) + 2:]]
                for more in headers[i + 1:]:
                    if not more[:1].isspace():
                        break
                    folded.append(more.strip())
                return " ".join(folded)
        return None

    @property
    def message(self) -> str:
        """The commit message body: after the headers, up to the `---` line before the diffstat."""
        body = self.text.split("\n\n", 1)[1] if "\n\n" in self.text else ""
        return body.split("\n---\n", 1)[0]

    def trailer(self, key: str) -> List[str]:
        return [line[len(key) + 1:].strip() for line in self.message.splitlines() if line.startswith(key + ":")]

    @property
    def title(self) -> str:
        """The subject without format-patch's [PATCH n/m] prefix (what a Depends-on trailer names)."""
        match = SUBJECT.match("Subject: " + (self.header("Subject") or ""))
        return match.group(1) if match else ""

    @property
    def tests(self) -> List[str]:
        return [path for value in self.trailer("Tests") for path in value.split()]

    @property
    def changed_files(self) -> List[str]:
        """Files the diff adds or changes (by their new name)."""
        return [new for _old, new in DIFF_FILE.findall(self.text)]


def base() -> str:
    return (SERIES_DIR / "BASE").read_text().strip()


def series_names(series_dir: Path = SERIES_DIR) -> List[str]:
    names = []
    for line in (series_dir / "series").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            names.append(line)
    return names


def patch_files(series_dir: Path = SERIES_DIR) -> List[str]:
    return sorted(p.name for p in (series_dir / "patches").iterdir() if p.name != ".gitkeep")


def patches(series_dir: Path = SERIES_DIR) -> List[Patch]:
    return [Patch(name, (series_dir / "patches" / name).read_text()) for name in series_names(series_dir)
            if (series_dir / "patches" / name).is_file()]


def format_problems(patch: Patch) -> List[str]:
    """What makes a patch not look like one commit's git format-patch output for upstream."""
    problems = []
    if not patch.lines or not MBOX_FROM.match(patch.lines[0]):
        problems.append("first line is not format-patch's 'From <sha> Mon Sep 17 00:00:00 2001'")
    for field in ("From", "Date", "Subject"):
        if patch.header(field) is None:
            problems.append(f"no {field}: header")
    subject = patch.header("Subject")
    if subject is not None and not SUBJECT.match("Subject: " + subject):
        problems.append(f"subject {subject!r} does not start with [XPU] or [Launcher]")
    if "\n---\n" not in patch.text:
        problems.append("no '---' line between the message and the diff")
    if not patch.changed_files:
        problems.append("no diff")
    return problems
