"""mkdocs hooks (``hooks:`` in mkdocs.yml): the command-line reference, generated at build
time from the argparse parsers themselves (``eqgat.cli.build_parser``,
``landscape.cli.build_parser``), so it cannot drift from the code.

A page containing ``<!-- cli-reference: eqgat -->`` (or ``: landscape``) gets, in its
place, one section per sub-command: its help, its usage line and a table per argument
group (flags, default, help). ``render("eqgat")`` returns the same text outside mkdocs.
"""

import argparse
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARKER = re.compile(r"<!--\s*cli-reference:\s*(\w+)\s*-->")


def _import_path() -> None:
    src = str(ROOT / "src")
    if src not in sys.path:
        sys.path.insert(0, src)


def _parser(name: str) -> tuple[str, argparse.ArgumentParser]:
    _import_path()
    if name == "eqgat":
        from eqgat.cli import build_parser
    elif name == "landscape":
        from landscape.cli import build_parser
    else:
        raise ValueError(f"unknown command-line interface {name!r} (eqgat or landscape)")
    parser = build_parser()
    return parser.prog, parser


def _subcommands(parser: argparse.ArgumentParser):
    """(name, help, parser) of every sub-command, in the order they were added."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name) or "", sub


def _cell(text: str) -> str:
    """``text`` safe inside a Markdown table cell."""
    return " ".join(str(text).split()).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def _code(text: str) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return f"``{text}``" if "`" in text else f"`{text}`"


def _default(action: argparse.Action) -> str:
    if action.required:
        return "required"
    if isinstance(action, (argparse._StoreTrueAction, argparse._StoreFalseAction)) and action.default in (False, True, None):
        return ""
    if action.default is None or action.default == argparse.SUPPRESS:
        return ""
    value = action.default
    if isinstance(value, (list, tuple)):
        value = ",".join(map(str, value))
    return _code(value)


def _groups(parser: argparse.ArgumentParser, formatter: argparse.HelpFormatter) -> list[str]:
    out = []
    for group in parser._action_groups:
        rows = []
        for action in group._group_actions:
            if isinstance(action, (argparse._HelpAction, argparse._SubParsersAction)):
                continue
            invocation = formatter._format_action_invocation(action)
            if not action.option_strings:  # a positional argument
                invocation = action.metavar or action.dest
                if action.nargs in ("*", "+"):
                    invocation += " ..."
            help_ = action.help or ""
            try:  # argparse's own %(default)s / %(prog)s expansions
                help_ = help_ % {**vars(action), "default": action.default, "prog": parser.prog}
            except (KeyError, TypeError, ValueError):
                pass
            if action.choices and action.option_strings and "{" not in invocation:
                help_ = f"{help_} (one of {', '.join(map(str, action.choices))})".strip()
            rows.append(f"| {_code(invocation)} | {_default(action)} | {_cell(help_)} |")
        if rows:
            title = group.title or "options"
            out += [f"**{_cell(title)}**", "", "| argument | default | help |", "|---|---|---|", *rows, ""]
    return out


def render(name: str) -> str:
    """The Markdown reference of ``python -m <name>``: its global options, then one
    section per sub-command."""
    os.environ["COLUMNS"] = "100"  # argparse wraps usage lines at the terminal width
    prog, parser = _parser(name)
    formatter = parser._get_formatter()
    lines = [f"## `{prog}`", ""]
    if parser.description:
        lines += [" ".join(parser.description.split()), ""]
    lines += ["```text", parser.format_usage().strip(), "```", ""]
    lines += _groups(parser, formatter)
    for sub_name, help_, sub in _subcommands(parser):
        lines += [f"### `{prog} {sub_name}`", ""]
        if help_:
            lines += [help_[0].upper() + help_[1:] + ("" if help_.endswith(".") else "."), ""]
        if sub.description and sub.description != help_:
            lines += [" ".join(sub.description.split()), ""]
        lines += ["```text", sub.format_usage().strip(), "```", ""]
        lines += _groups(sub, sub._get_formatter())
    return "\n".join(lines)


def on_page_markdown(markdown: str, page, config, files) -> str:  # noqa: ARG001 (mkdocs' signature)
    return MARKER.sub(lambda m: render(m.group(1)), markdown)


if __name__ == "__main__":
    print(render(sys.argv[1] if len(sys.argv) > 1 else "eqgat"))
