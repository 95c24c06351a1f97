"""The README stays a front door, and the documentation's relative links lead somewhere.

Checks README.md and every docs/*.md page: the README's length, every relative link's file and, for links into
markdown, its anchor (GitHub's heading slugs), and that the docs index lists every page.
"""

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
DOCS = REPO / "docs"
README_MAX_LINES = 320

PAGES = [REPO / "README.md", *sorted(DOCS.glob("*.md"))]

FENCE = re.compile(r"^```.*?^```", re.M | re.S)
# A code span: a run of backticks, then anything up to the same run (it may wrap a line).
CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)
# [text](target) or ![alt](target), the text possibly wrapped over lines; an optional "title" after the target.
LINK = re.compile(r"!?\[([^\]]*)\]\(\s*([^)\s]+)(?:\s+\"[^\"]*\")?\s*\)")
HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$", re.M)


def prose(text):
    """The text without fenced blocks and code spans: what a reader sees as links."""
    return CODE_SPAN.sub("", FENCE.sub("", text))


def links(page):
    return [target for _, target in LINK.findall(prose(page.read_text(encoding="utf-8")))]


def slug(heading):
    """GitHub's anchor for a heading: the rendered text, lower case, punctuation dropped, spaces as hyphens."""
    text = LINK.sub(lambda m: m.group(1), heading).replace("`", "")
    text = re.sub(r"[^\w\- ]", "", text.strip().lower())
    return text.replace(" ", "-")


def anchors(page):
    """Every heading's anchor in a markdown file; repeated headings get -1, -2, ... as on GitHub."""
    seen = {}
    result = set()
    for _, heading in HEADING.findall(FENCE.sub("", page.read_text(encoding="utf-8"))):
        base = slug(heading)
        count = seen.get(base, 0)
        seen[base] = count + 1
        result.add(base if count == 0 else f"{base}-{count}")
    return result


def broken_links(page):
    """Each relative link of the page whose file does not exist or whose anchor names no heading there."""
    broken = []
    for target in links(page):
        if re.match(r"^[a-z][a-z0-9+.-]*:", target):  # https:, mailto: ...: not ours to check
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.exists():
            broken.append(f"{target}: no such file")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target}: no heading there has this anchor")
    return broken


def test_readme_is_a_front_door():
    lines = (REPO / "README.md").read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines; move detail to a docs/ page"


def test_readme_keeps_the_two_commands():
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert "\n./run main    # " in readme and "\n./run test    # " in readme


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(REPO)) for p in PAGES])
def test_relative_links_resolve(page):
    assert broken_links(page) == []


def test_docs_index_lists_every_page():
    index = DOCS / "README.md"
    listed = {(DOCS / target.partition("#")[0]).resolve() for target in links(index)}
    unlisted = [p.name for p in DOCS.glob("*.md") if p != index and p.resolve() not in listed]
    assert unlisted == [], "docs/README.md does not list these pages"


def test_the_link_check_finds_a_broken_link_and_anchor(tmp_path):
    """The checker itself: a missing file and a missing heading are found; code is not read as links."""
    (tmp_path / "there.md").write_text("# A page\n\n## Its `second` heading: yes\n")
    page = tmp_path / "page.md"
    page.write_text("[ok](there.md#its-second-heading-yes) [gone](missing.md) [bad](there.md#nowhere)\n"
                    "`fn[grid](*args)` and [ok too](#a-title)\n\n# A title\n\n```\n[no](in-code.md)\n```\n")
    assert broken_links(page) == ["missing.md: no such file", "there.md#nowhere: no heading there has this anchor"]
