"""Reading and writing text files line by line, keeping their encoding bytes and line endings intact."""
import itertools
import os
import stat

from .cli import ToolError

SNIFF_BYTES = 8192
CHUNK = 1 << 20


def is_binary(path):
    with open(path, "rb") as f:
        return b"\0" in f.read(SNIFF_BYTES)


def check_text_file(path):
    """Refuse what the text tools cannot show: missing paths, directories, devices, binary files."""
    if not os.path.exists(path):
        raise ToolError(f"{path} does not exist.")
    if os.path.isdir(path):
        raise ToolError(f"{path} is a directory. List it with `ls {path}` or search it with `find_file <name> {path}`.")
    if not stat.S_ISREG(os.stat(path).st_mode):
        raise ToolError(f"{path} is not a regular file.")
    if not os.access(path, os.R_OK):
        raise ToolError(f"{path} is not readable.")
    if is_binary(path):
        raise ToolError(f"{path} is a binary file and cannot be shown as text. "
                        "Inspect it with a script (e.g. `python3 -c ...`) or tools like `ls -l` and `head -c`.")


def count_lines(path):
    """Lines as an editor counts them: a last line without a newline still counts."""
    count = 0
    last = b""
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            count += chunk.count(b"\n")
            last = chunk
    return count + (1 if last and not last.endswith(b"\n") else 0)


def read_lines(path, first, count):
    """Lines first..first+count-1 (1-based) as display text, without reading the whole file."""
    with open(path, "rb") as f:
        return [as_text(raw) for raw in itertools.islice(f, first - 1, first - 1 + count)]


def as_text(raw):
    """One raw line for display: undecodable bytes replaced, line ending dropped."""
    return raw.decode("utf-8", "replace").rstrip("\r\n")


class EditableFile:
    """A whole file as lines that keep their own endings; unknown bytes survive a round trip."""

    def __init__(self, path):
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "surrogateescape")
        parts = text.split("\n")
        self.path = path
        self.lines = [p + "\n" for p in parts[:-1]] + ([parts[-1]] if parts[-1] else [])
        self.eol = "\r\n" if text.count("\r\n") * 2 > text.count("\n") else "\n"
        self.ends_with_newline = not self.lines or self.lines[-1].endswith("\n")

    def replaced(self, start, end, new_lines):
        """The file's lines with lines start..end (1-based, inclusive; end = start - 1 inserts) replaced."""
        result = self.lines[:start - 1] + [line + self.eol for line in new_lines] + self.lines[end:]
        for i in range(len(result) - 1):
            if not result[i].endswith("\n"):
                result[i] += self.eol
        if result and not self.ends_with_newline:
            result[-1] = without_eol(result[-1])
        return result

    def write(self, lines):
        try:
            with open(self.path, "wb") as f:
                f.write(joined(lines))
        except OSError as err:
            raise ToolError(f"could not write {self.path}: {err.strerror}.") from None


def without_eol(line):
    if line.endswith("\r\n"):
        return line[:-2]
    return line[:-1] if line.endswith("\n") else line


def joined(lines):
    return "".join(lines).encode("utf-8", "surrogateescape")
