"""Checks on Python files after an edit: syntax errors and names that are never defined anywhere.

Only clearly undefined names are reported (not defined in any scope that could supply them, not
builtins): a name assigned only on some paths, or via `from m import *`, is not reported.
"""
import ast
import builtins
import re
import symtable

# Defined by the interpreter in a module or class body without an assignment in the source.
IMPLICIT_NAMES = {"__name__", "__file__", "__doc__", "__spec__", "__loader__", "__package__", "__builtins__",
                  "__path__", "__annotations__", "__cached__", "__module__", "__qualname__"}
STAR_IMPORT = re.compile(rb"^[ \t]*from[ \t]+[\w.]+[ \t]+import[ \t]+\*", re.MULTILINE)


def analyse(source, filename):
    """(syntax error text or None, {undefined name: first line used})"""
    try:
        compile(source, filename, "exec", dont_inherit=True)
        table = symtable.symtable(source.decode("utf-8", "surrogateescape"), filename, "exec")
    except (SyntaxError, ValueError) as err:
        return describe(err), {}
    if STAR_IMPORT.search(source):
        return None, {}
    return None, undefined_names(source, table)


def describe(err):
    if isinstance(err, SyntaxError):
        return f"{type(err).__name__}: {err.msg} (line {err.lineno})"
    return f"SyntaxError: {err}"


def undefined_names(source, table):
    defined = set(dir(builtins)) | IMPLICIT_NAMES
    used = set()
    scopes = [table]
    while scopes:
        scope = scopes.pop()
        at_module = scope.get_type() == "module"
        for sym in scope.get_symbols():
            if (at_module and (sym.is_assigned() or sym.is_imported())) or (sym.is_declared_global() and sym.is_assigned()):
                defined.add(sym.get_name())
            if sym.is_referenced() and sym.is_global():
                used.add(sym.get_name())
        scopes += scope.get_children()
    missing = used - defined
    if not missing:
        return {}
    lines = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Name) and node.id in missing and not isinstance(node.ctx, ast.Store):
            lines[node.id] = min(lines.get(node.id, node.lineno), node.lineno)
    return {name: lines.get(name, 0) for name in sorted(missing)}


def check_edit(before, after, filename):
    """The problems an edit introduces (reasons to roll it back), and a note on problems it only keeps."""
    after_error, after_undefined = analyse(after, filename)
    if after_error is None and not after_undefined:
        return [], None
    before_error, before_undefined = analyse(before, filename)
    if before_error is not None:
        # The file did not compile before: nothing here tells which problems are new.
        return [], f"Note: the file still does not compile: {after_error}" if after_error else None
    if after_error is not None:
        return [after_error], None
    return [f"undefined name '{name}' (line {line})" for name, line in after_undefined.items()
            if name not in before_undefined], None
