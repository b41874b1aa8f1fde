"""The `kb` command: thin wiring from options to one function each."""

from __future__ import annotations

import datetime as dt
import json
import sys
import traceback
from pathlib import Path

import click

from kb import config, vocab
from kb.errors import KbError


class _Ctx:
    def __init__(self, practices, index):
        self.settings = config.settings(practices, index)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--practices", type=click.Path(file_okay=False), help="Practices folder (default: practices/).")
@click.option("--index", "index_dir", type=click.Path(file_okay=False), help="Index folder (default: instance/index/).")
@click.pass_context
def main(ctx, practices, index_dir):
    """CELAC-China poverty-reduction knowledge base."""
    ctx.obj = _Ctx(practices, index_dir)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path())
@click.option("--json", "as_json", is_flag=True, help="Print the problems as JSON.")
@click.pass_obj
def validate(obj, paths, as_json):
    """Check practice files (default: the practices folder) and print every problem."""
    from kb.practice import load_tree
    from kb.translation import stale_warnings

    roots = [Path(p) for p in paths] or [obj.settings.practices_dir]
    missing = [str(r) for r in roots if not r.exists()]
    if missing:
        raise click.ClickException(f"no such file or folder: {', '.join(missing)}")
    practices, problems = [], []
    for root in roots:
        found, probs = load_tree(root)
        practices += found
        problems += probs
    translations = [t.path for p in practices for t in p.translation_files.values()]
    files = len({p.path for p in practices} | {p.path for p in problems} | set(translations))
    bad = len({p.path for p in problems})
    warnings = stale_warnings(practices)
    if as_json:
        click.echo(json.dumps({"files": files, "valid": files - bad, "invalid": bad,
                               "problems": [p.to_dict() for p in problems],
                               "warnings": [w.to_dict() for w in warnings]}, ensure_ascii=False, indent=1))
    else:
        for problem in problems:
            click.echo(str(problem))
        for warning in warnings:
            click.echo(f"warning: {warning}", err=True)
        verdict = "all valid" if not problems else f"{len(problems)} problem(s) in {bad} file(s)"
        click.echo(f"Checked {files} file(s): {files - bad} valid, {bad} invalid; {verdict}.")
    sys.exit(1 if problems else 0)


@main.command()
@click.option("--title", help="Name of the practice.")
@click.option("--country", help="ISO alpha-3 code, e.g. BRA.")
@click.option("--policy-type", help="Primary policy type slug, e.g. cash-transfers.")
@click.option("--slug", help="File name without .md (default: from country and title).")
@click.pass_obj
def new(obj, title, country, policy_type, slug):
    """Scaffold a new practice file that validates, ready to fill in."""
    from kb.scaffold import create_practice

    interactive = sys.stdin.isatty()
    title = title or (click.prompt("Title") if interactive else None)
    country = country or (click.prompt("Country (alpha-3, e.g. BRA)") if interactive else None)
    policy_type = policy_type or (click.prompt("Primary policy type (e.g. cash-transfers)") if interactive else None)
    if not (title and country and policy_type):
        raise click.UsageError("give --title, --country and --policy-type (or run on a terminal to be asked)")
    path = create_practice(obj.settings.practices_dir, title, country, policy_type, slug, dt.date.today())
    click.echo(f"Created {path}")
    click.echo("Next: fill in the summary, years, status, sources and the body sections; then run "
               f"`kb validate {path}` and `kb index`.")


@main.command()
@click.option("--rebuild", is_flag=True, help="Build a complete new index and switch to it atomically.")
@click.option("--export", "export_to", type=click.Path(dir_okay=False),
              help="Write the live generation to FILE (.tar.gz with a manifest of checksums); index nothing.")
@click.option("--import", "import_from", type=click.Path(dir_okay=False, exists=True),
              help="Verify the artifact FILE and make its generation live; index nothing.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--check", is_flag=True, help="Also verify every index file's checksum (a damaged index is rebuilt).")
@click.pass_obj
def index(obj, rebuild, export_to, import_from, quiet, check):
    """Index the practices: only what changed, or everything with --rebuild; or move an index
    between machines as an artifact (--export / --import)."""
    if export_to or import_from:
        if sum(map(bool, (rebuild, check, export_to, import_from))) > 1:
            raise click.UsageError("give one of --rebuild, --check, --export and --import")
        _artifact(obj.settings.index_dir, export_to, import_from)
        return
    from kb.engine import update_index

    def progress(done, total):
        if not quiet and total >= 200 and (done % 200 == 0 or done == total):
            click.echo(f"  {done}/{total} files read", err=True)

    report = update_index(obj.settings, rebuild=rebuild, progress=progress, check=check)
    for note in report.notes:
        click.echo(f"Note: {note}", err=True)
    for problem in report.problems:
        click.echo(str(problem), err=True)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    click.echo(report.summary())
    sys.exit(1 if report.problems else 0)


def _artifact(index_dir: Path, export_to: str | None, import_from: str | None) -> None:
    from kb import artifact

    if export_to:
        manifest = artifact.export_generation(index_dir, Path(export_to))
        verb, where = "Exported", export_to
    else:
        manifest = artifact.import_generation(index_dir, Path(import_from))
        verb, where = "Imported", index_dir
    size = sum(f["size"] for f in manifest["files"].values())
    click.echo(f"{verb} generation {manifest['generation']} ({len(manifest['files'])} files, "
               f"{size / 1e6:.1f} MB, checksums verified) {'to' if export_to else 'into'} {where}")


@main.command()
@click.option("--json", "as_json", is_flag=True, help="Print each practice's languages as JSON, with body_sha256.")
@click.option("--hash", "hash_slug", metavar="SLUG", help="Print the SHA-256 of a practice's body, for translated_from.")
@click.pass_obj
def translations(obj, as_json, hash_slug):
    """Which languages each case study's body is in: original, present (machine or human), stale or missing."""
    from kb.practice import load_tree
    from kb.translation import coverage

    practices, problems = load_tree(obj.settings.practices_dir)
    if hash_slug:
        found = [p for p in practices if p.slug == hash_slug]
        if not found:
            raise click.ClickException(f"no valid practice {hash_slug!r} in {obj.settings.practices_dir}"
                                       + (" (`kb validate` lists the problems)" if problems else ""))
        click.echo(found[0].body_sha256)
        return
    rows = coverage(practices)
    if as_json:
        click.echo(json.dumps({"practices": rows}, ensure_ascii=False, indent=1))
        return
    click.echo((f"{'practice':45} " + " ".join(f"{lang:9}" for lang in vocab.LANGUAGES)).rstrip())
    for row in rows:
        cells = [_coverage_cell(row["languages"][lang]) for lang in vocab.LANGUAGES]
        click.echo(f"{row['slug']:45} " + " ".join(f"{cell:9}" for cell in cells).rstrip())
    if problems:
        click.echo(f"({len({p.path for p in problems})} invalid file(s) left out; `kb validate` lists them)", err=True)


def _coverage_cell(cell: dict) -> str:
    return cell["kind"] if cell["status"] == "present" else cell["status"]


@main.command()
@click.argument("query", required=False, default="")
@click.option("--country", multiple=True, help="Alpha-3 code; repeat for several.")
@click.option("--policy-type", multiple=True, help="Policy type slug; repeat for several.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
@click.pass_obj
def search(obj, query, country, policy_type, limit, as_json):
    """Search the index from a terminal or a script."""
    from kb.engine import open_store
    from kb.search import SearchRequest, run_search

    request = SearchRequest.build(query, {"country": list(country), "policy_type": list(policy_type)},
                                  per_page=limit)
    result = run_search(open_store(obj.settings), request)
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=1))
        return
    click.echo(f"{result.total} practice(s) for {query!r}" + (f" (did you mean {result.suggestion!r}?)"
                                                                if result.suggestion else ""))
    for hit in result.hits:
        years = f"{hit['year_start']}-{hit['year_end'] or ''}"
        click.echo(f"  {hit['slug']:45} {','.join(hit['countries']):12} {years:10} {hit['title']}")


@main.command()
@click.pass_obj
def stats(obj):
    """Counts by country and policy type, and the index's age and size."""
    from kb.engine import open_store
    from kb.search import SearchRequest, run_search

    store = open_store(obj.settings)
    result = run_search(store, SearchRequest.build("", {}, per_page=1))
    info = store.info()
    click.echo(f"{result.total} practices; index generation {info['generation']}, "
               f"built {info['age_seconds']:.0f} s ago, {info['size_bytes'] / 1e6:.1f} MB at {info['path']}")
    if info["last_good"]:
        click.echo(f"{info['last_good']} practice(s) served from their last valid version: their files have "
                   "errors (`kb index` lists them)")
    for name in ("country", "policy_type"):
        click.echo(f"\nBy {name.replace('_', ' ')}:")
        for value in result.facets[name]["values"]:
            click.echo(f"  {value['count']:5}  {value['value']:26} {value['label']}")


VOCABULARIES = {"countries": vocab.countries, "policy_types": vocab.policy_types, "status": vocab.statuses,
                "language": vocab.languages, "geographic_scale": vocab.scales,
                "evidence_level": vocab.evidence_levels, "regions": vocab.regions,
                "indicators": vocab.indicators, "outcomes": vocab.outcomes, "benefits": vocab.benefits,
                "conditionality": vocab.conditionalities, "targeting": vocab.targeting_methods,
                "currencies": vocab.currencies}


@main.command("vocab")
@click.argument("name", type=click.Choice(list(VOCABULARIES)))
def vocab_cmd(name):
    """List the allowed values of a controlled field."""
    table = VOCABULARIES
    for term in table[name]():
        click.echo(f"{term.value:26} {term.label('en')}")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--workers", type=click.IntRange(1, 64), help="Worker processes (default: one per core).")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Threads per worker.")
@click.option("--read-only", is_flag=True,
              help="A replica: serve an existing index and never write anything (refuses to start without one).")
@click.option("--debug", is_flag=True, help="Flask's development server with reloading.")
@click.pass_obj
def serve(obj, host, port, workers, threads, read_only, debug):
    """Serve the site and the API with gunicorn (the Flask dev server only with --debug)."""
    from kb.app import create_app
    from kb.server import default_workers, serve

    if read_only:
        from kb.engine import live_generation

        if live_generation(obj.settings.index_dir) is None:
            raise click.ClickException(f"no index at {obj.settings.index_dir}; a read-only replica serves an "
                                       "index built elsewhere (`kb index --import FILE`)")
    settings, notes = config.for_serving(obj.settings, host, port, debug)
    app = create_app(settings, DEBUG=debug, READ_ONLY=read_only)
    for note in notes:
        click.echo(note)
    if debug:
        app.run(host=host, port=port, debug=True)
        return
    workers = workers or default_workers()
    click.echo(f"Serving on http://{host}:{port}/ with {workers} worker(s) of {threads} threads"
               + (", read-only" if read_only else ""))
    serve(app, host, port, workers, threads)


def run() -> None:
    """Entry point: turn domain errors into a clean message and exit code 1."""
    try:
        main(standalone_mode=True)
    except KbError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:  # a file or folder the command could not use
        click.echo(f"Error: {exc.filename or ''}: {exc.strerror or exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # never a traceback: one line, and the way to get more
        frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
        where = f" at {frame.filename}:{frame.lineno}" if frame else ""
        click.echo(f"Error: unexpected {type(exc).__name__}: {exc}{where} (please report it with the "
                   "command you ran)", err=True)
        sys.exit(1)
