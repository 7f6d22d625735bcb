"""Code checks for generated TypeScript / TSX / JavaScript: extraction, syntax, naming.

One import path for the judge's code checks, kept in two modules by topic:
:mod:`web4rl.judges.syntax` (finding the code in a completion, parsing it with tree-sitter)
and :mod:`web4rl.judges.naming` (naming conventions, parameter types and file names, read off
the same syntax tree).
"""

from web4rl.judges.naming import (
    NamingResult,
    check_file_names,
    check_naming,
    check_types,
    file_name_style,
    file_names_in,
)
from web4rl.judges.syntax import (
    CODE_EXTENSIONS,
    CodeSnippet,
    SyntaxResult,
    check_syntax,
    extract_code_snippets,
    language_for_path,
    parse,
)

__all__ = [
    "CODE_EXTENSIONS",
    "CodeSnippet",
    "NamingResult",
    "SyntaxResult",
    "check_file_names",
    "check_naming",
    "check_syntax",
    "check_types",
    "extract_code_snippets",
    "file_name_style",
    "file_names_in",
    "language_for_path",
    "parse",
]
