"""The command line: its verbs, options and exit codes.

Only click is imported here so that `--help` answers at once; each verb lives in its own
module (cmd_<verb>.py) and is imported when it runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from draftsman_gen import __version__

FORMAT_CHOICE = click.Choice(["text", "json", "github"])
MODEL_DIR = click.Path(exists=True, file_okay=False, dir_okay=True, path_type=Path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="draftsman-gen")
def cli() -> None:
    """Compile event-sourced domain models (YAML) into a standalone Python service.

    \b
    Typical use:
      draftsman-gen validate models/bank
      draftsman-gen build models/bank --out generated/bank
      draftsman-gen check models/bank --out generated/bank   # in CI
    """


@cli.command()
@click.argument("model_dir", type=MODEL_DIR)
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True,
              help="How to print problems: text lines, a JSON list, or GitHub annotations.")
def validate(model_dir: Path, error_format: str) -> None:
    """Check MODEL_DIR and print every problem found (exit 0 valid, 1 invalid)."""
    from draftsman_gen.cmd_validate import run

    sys.exit(run(model_dir, error_format))


@cli.command()
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Write the schema files into this folder instead of printing them.")
@click.option("--name", "kind", type=click.Choice(
    ["project", "command", "aggregate", "event", "behavior-flow", "pattern", "expression", "common"]),
    help="Print only the schema of this file kind.")
def schema(out_dir: Path | None, kind: str | None) -> None:
    """Print or write the JSON Schemas of the model files (for editors and CI)."""
    from draftsman_gen.cmd_schema import run

    sys.exit(run(out_dir, kind))


OUT_DIR = click.Path(file_okay=False, dir_okay=True, path_type=Path)


@cli.command()
@click.argument("model_dir", type=MODEL_DIR)
@click.option("--out", "out_dir", type=OUT_DIR, required=True,
              help="Folder of the generated package (created if missing).")
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not use the formatting cache.")
@click.option("--full", is_flag=True,
              help="Regenerate even when the manifest says model and generator are unchanged.")
@click.option("--vendor-runtime/--no-vendor-runtime", "vendor", default=None,
              help="Copy draftsman-runtime into the package (no dependency) or depend on it. "
              "Default: as the existing output does; else depend on it.")
def build(model_dir: Path, out_dir: Path, error_format: str, no_cache: bool, full: bool,
          vendor: bool | None) -> None:
    """Validate MODEL_DIR and write the generated service into --out.

    Only files that changed are rewritten; files a previous build wrote that the model no
    longer produces are removed; files draftsman-gen did not write are never touched.
    """
    from draftsman_gen.cmd_build import build as run

    sys.exit(run(model_dir, out_dir, error_format, not no_cache, full, vendor))


@cli.command()
@click.argument("model_dir", type=MODEL_DIR)
@click.option("--out", "out_dir", type=OUT_DIR, required=True,
              help="Folder of the committed generated package.")
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True)
@click.option("--no-cache", is_flag=True, help="Do not use the formatting cache.")
@click.option("--full", is_flag=True,
              help="Regenerate and compare even when the manifest says nothing changed.")
@click.option("--vendor-runtime/--no-vendor-runtime", "vendor", default=None,
              help="Copy draftsman-runtime into the package (no dependency) or depend on it. "
              "Default: as the existing output does; else depend on it.")
def check(model_dir: Path, out_dir: Path, error_format: str, no_cache: bool, full: bool,
          vendor: bool | None) -> None:
    """Exit 1 with a diff when --out is not what MODEL_DIR generates (for CI).

    When the manifest records the digest of this exact model and generator and every
    generated file still has its recorded hash, the answer is immediate; --full regenerates
    in memory and compares file by file regardless.
    """
    from draftsman_gen.cmd_build import check as run

    sys.exit(run(model_dir, out_dir, error_format, not no_cache, full, vendor))


@cli.command()
@click.argument("folder", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--name", help="The project's name (PascalCase). Default: from the folder's name.")
@click.option("--force", is_flag=True,
              help="Write into a folder that is not empty (files of the same name are replaced).")
def init(folder: Path, name: str | None, force: bool) -> None:
    """Start a new model in FOLDER (default: here) that validates and builds at once.

    One aggregate with a command, a domain event with its handler and a create flow with two
    test cases, the JSON Schemas for editors, a .gitignore, and a GitHub Actions workflow that
    runs `check` and the generated tests.
    """
    from draftsman_gen.cmd_init import run

    sys.exit(run(folder, name, force))


@cli.command()
@click.argument("model_dir", type=MODEL_DIR)
@click.option("--against", "ref", required=True, metavar="GIT_REF",
              help="The git ref (commit, branch, tag) of the model to compare with.")
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True)
def breaking(model_dir: Path, ref: str, error_format: str) -> None:
    """Report every change since GIT_REF that breaks stored data or API clients.

    A domain event or event field removed, renamed or retyped, a field made required without
    a default, a business key changed, a command removed or its input made stricter; each
    located in MODEL_DIR with its code (docs/breaking.md). Exit 1 when something breaks.
    """
    from draftsman_gen.cmd_breaking import run

    sys.exit(run(model_dir, ref, error_format))


@cli.command()
@click.argument("model_dir", type=MODEL_DIR)
@click.option("--out", "out_dir", type=OUT_DIR, required=True,
              help="Folder of the Markdown pages (created if missing).")
@click.option("--check", "check_only", is_flag=True,
              help="Write nothing; exit 1 with a diff when --out is not what MODEL_DIR gives.")
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True)
def docs(model_dir: Path, out_dir: Path, check_only: bool, error_format: str) -> None:
    """Write Markdown pages with Mermaid diagrams of MODEL_DIR into --out (docs/model-docs.md).

    index.md, a page per subdomain and per aggregate: documents, entities, commands, domain
    events and their handlers, flows with triggers, processors and test cases. Only changed
    pages are rewritten; pages of elements the model no longer has are removed; files `docs`
    did not write are never touched. --check (for CI) writes nothing and exits 1 with a diff
    when --out is stale.
    """
    from draftsman_gen.cmd_docs import run

    sys.exit(run(model_dir, out_dir, check_only, error_format))


@cli.command("import-xml")
@click.argument("source", type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out_dir", type=OUT_DIR, required=True,
              help="Folder of the new YAML model (created if missing).")
@click.option("--force", is_flag=True,
              help="Replace the model in a folder that is not empty (draftsman.yaml, "
              "commands/, domain/, patterns/, expressions/, lib/; nothing else is touched).")
@click.option("--error-format", type=FORMAT_CHOICE, default="text", show_default=True,
              help="How to print the report: text lines, a JSON list, or GitHub annotations.")
def import_xml(source: Path, out_dir: Path, force: bool, error_format: str) -> None:
    """Import a Draftsman (Tracepaper) XML model: SOURCE is a model.xml file (the older
    format) or the root of a per-file model repository (with config.xml).

    Writes the YAML model into --out and reports, located in the XML, everything it did not
    import or could not translate with certainty (exit 0; 1 when SOURCE cannot be imported,
    and then nothing is written). Afterwards `draftsman-gen validate` is the judge.
    """
    from draftsman_gen.cmd_import_xml import run

    sys.exit(run(source, out_dir, force, error_format))


def main() -> None:
    try:
        cli()
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: never a traceback
        click.echo(f"draftsman-gen: internal error: {type(exc).__name__}: {exc}", err=True)
        click.echo("This is a bug in draftsman-gen; please report it with the model that "
                   "caused it.", err=True)
        sys.exit(3)
