"""The cheap checks of upstream's pre-commit-hooks (v5.0.0 in its .pre-commit-config.yaml), for upstream/check.

    python upstream/precommit_hooks.py FILE...    (paths relative to the current folder: the patched tree)

Prints one line per finding, `path: hook: what`, and exits 1 when there is any.  Only what pre-commit would
report for a commit: trailing whitespace and end-of-file (not in *.patch files, as upstream excludes them),
Python syntax and debugger statements, shebang and executable bit agreeing, large files, private keys, TOML
syntax.  The merge-conflict and YAML hooks are left out (the first only acts during a merge; the second needs
a YAML library the lint venv does not carry).
"""
import ast
import os
import re
import sys

LARGE_FILE_KB = 500  # check-added-large-files' default --maxkb
DEBUG_MODULES = {"pdb", "ipdb", "pudb", "pydevd_pycharm", "q", "rdb", "rpdb", "wdb"}
PRIVATE_KEY_MARKERS = (b"BEGIN RSA PRIVATE KEY", b"BEGIN DSA PRIVATE KEY", b"BEGIN EC PRIVATE KEY",
                       b"BEGIN OPENSSH PRIVATE KEY", b"BEGIN PRIVATE KEY", b"PuTTY-User-Key-File-2",
                       b"BEGIN SSH2 ENCRYPTED PRIVATE KEY", b"BEGIN PGP PRIVATE KEY BLOCK",
                       b"BEGIN ENCRYPTED PRIVATE KEY")


def is_text(data):
    return b"\0" not in data[:8192]


def whitespace_findings(path, data):
    if path.endswith(".patch"):
        return []
    found = []
    for number, line in enumerate(data.split(b"\n"), 1):
        if line.rstrip(b"\r").rstrip(b" \t") != line.rstrip(b"\r"):
            found.append(f"trailing-whitespace: line {number}")
    # end-of-file-fixer: a non-empty file ends with exactly one newline.
    if data and not data.endswith(b"\n"):
        found.append("end-of-file-fixer: no newline at the end of the file")
    elif data.endswith(b"\n\n") or data.endswith(b"\r\n\r\n"):
        found.append("end-of-file-fixer: blank lines at the end of the file")
    elif data and not data.strip():
        found.append("end-of-file-fixer: a file of only blank lines")
    return found


def python_findings(path, data):
    try:
        tree = ast.parse(data, filename=path)
    except SyntaxError as error:
        return [f"check-ast: {error.msg} (line {error.lineno})"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "breakpoint":
            found.append(f"debug-statements: breakpoint() called (line {node.lineno})")
            continue
        else:
            continue
        for name in names:
            if name.split(".")[0] in DEBUG_MODULES:
                found.append(f"debug-statements: imports {name} (line {node.lineno})")
    return found


def mode_findings(path, data):
    shebang = data.startswith(b"#!")
    executable = os.access(path, os.X_OK)
    if executable and not shebang:
        return ["check-executables-have-shebangs: executable without a #! line"]
    if shebang and not executable:
        return ["check-shebang-scripts-are-executable: has a #! line but is not executable"]
    return []


def toml_findings(path, data):
    try:
        import tomllib
    except ImportError:  # Python < 3.11: the check is skipped rather than guessed
        return []
    try:
        tomllib.loads(data.decode("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        return [f"check-toml: {error}"]
    return []


def findings(path):
    if os.path.islink(path) or not os.path.isfile(path):
        return []
    with open(path, "rb") as f:
        data = f.read()
    found = []
    if len(data) > LARGE_FILE_KB * 1024:
        found.append(f"check-added-large-files: {len(data) // 1024} KB > {LARGE_FILE_KB} KB")
    if any(marker in data for marker in PRIVATE_KEY_MARKERS):
        found.append("detect-private-key: contains a private key")
    if not is_text(data):
        return found
    found += whitespace_findings(path, data)
    found += mode_findings(path, data)
    if re.search(r"\.pyi?$", path):
        found += python_findings(path, data)
    if path.endswith(".toml"):
        found += toml_findings(path, data)
    return found


def main(paths):
    status = 0
    for path in paths:
        for finding in findings(path):
            print(f"{path}: {finding}")
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
