"""``cpts-geo check, check-register``: check a proposed territory, audit a register."""

from __future__ import annotations

from pathlib import Path

import click

from cpts_geo._progress import step
from cpts_geo._text import for_terminal
from cpts_geo.cli.options import (
    FrenchCommand,
    argument,
    check_output_paths,
    emit,
    exit_status,
    format_for,
    handle_errors,
    input_paths,
    layer_option,
    load_ref,
    log,
    min_population_option,
    offline_option,
    online_option,
    option,
    param_texts,
    read_register_warned,
    reading_kwargs,
    reading_options,
    run_provenance,
    sea_link_option,
    strict_option,
    warn_inputs,
)

#: Suffixes of ``-o`` for a report (text, JSON, HTML or PDF, chosen by ``--format`` or the suffix).
_REPORTS = (".txt", ".json", ".html", ".htm", ".pdf")


@click.command("check", cls=FrenchCommand)
@argument("proposal_path", metavar="PROPOSITION", type=click.Path(dir_okay=False, path_type=Path))
@option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/GeoJSON/GPKG) pour vérifier les chevauchements.",
)
@option(
    "--existing-layer",
    help="Registre GeoPackage (--existing) de plusieurs couches : la couche à lire.",
)
@min_population_option
@sea_link_option
@option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "pdf"]),
    help="Format du rapport (par défaut : text, ou d'après l'extension de -o : .html, .pdf, .json).",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire le rapport dans ce fichier plutôt qu'à l'écran ; .xlsx : classeur Excel "
    "(synthèse, règles, communes, EPCI) ; .gpkg : couches stylées pour QGIS ; .pdf : imprimé par "
    "Chromium (sinon la marche à suivre pour l'imprimer depuis un navigateur).",
)
@strict_option
@layer_option
@option("--sheet", help="Proposition XLSX : la feuille à lire (par défaut : la première).")
@option("--departement", help="Département qui lève l'ambiguïté des noms de communes de la proposition.")
@option("--name", "name", help="Nom du territoire dans le rapport (par défaut : d'après le fichier).")
@option("--cpts-id", help="Identifiant de cette CPTS dans le registre (elle n'est pas comparée à elle-même).")
@online_option
@offline_option
@reading_options()
@click.pass_context
@handle_errors
def check_cmd(
    ctx,
    proposal_path,
    existing_path,
    existing_layer,
    min_population,
    sea_link_km,
    fmt,
    output,
    strict,
    layer,
    sheet,
    departement,
    name,
    cpts_id,
    online,
    offline,
) -> None:
    """Vérifier un territoire de CPTS proposé : population, continuité, enclaves, EPCI,
    départements et régions, chevauchement avec les CPTS existantes.

    PROPOSITION est une liste de communes CSV/TXT/XLSX (codes ou noms) ou un polygone GeoJSON/GPKG.
    Code de sortie 0 : toutes les règles sont passées ou en avertissement ; 1 : une règle a
    échoué (ou averti, avec --strict) ; 2 : l'entrée n'a pas pu être lue.
    """
    from cpts_geo.checks.rules import check_territory
    from cpts_geo.inputs.read import read_proposal

    special = _special_output(ctx, output, fmt, (".xlsx", ".gpkg"), _REPORTS)
    fmt = format_for(fmt, output)
    if fmt == "pdf" and output is None:
        raise click.UsageError("--format pdf : indiquez le fichier PDF à écrire avec -o", ctx=ctx)
    if existing_layer is not None and existing_path is None:
        raise click.UsageError("--existing-layer : sans objet sans --existing", ctx=ctx)
    inputs = input_paths(ctx, proposal_path, existing_path)
    check_output_paths(ctx, [output], inputs)
    ref = load_ref(ctx)
    proposal = read_proposal(
        proposal_path,
        ref,
        sheet=sheet,
        departement=departement,
        layer=layer,
        **reading_kwargs(register=False),
    )
    warn_inputs(proposal_path, proposal.warnings)
    log.info(
        "Proposition lue : %s, %s unités, %s correction(s)",
        proposal_path,
        len(proposal.codes),
        len(proposal.warnings),
    )
    # --skip-rows is for the proposal; --prefer and --crs for both files.
    register = (
        read_register_warned(
            existing_path, ref, existing_layer, skip_rows=False, layer_option="--existing-layer"
        )
        if existing_path is not None
        else None
    )
    report = check_territory(
        ref,
        proposal,
        name=name,
        existing=register,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
    )
    log.info("Règles vérifiées : %s", _verdict_rules(report))
    if cpts_id is None:
        _hint_perimeter_change(report)
    if special == ".xlsx":
        from cpts_geo.outputs.spreadsheets import report_workbook, source_rows
        from cpts_geo.outputs.xlsx import write_workbook

        params = _check_parameters(min_population, sea_link_km) + [
            ("Département", departement, None, "aucun")
        ]
        source = source_rows(ref.vintage, files=inputs, parameters=params)
        write_workbook(output, report_workbook(ref, report), source=source, inputs=inputs)
    elif special == ".gpkg":
        from cpts_geo.outputs.geopackages import write_territory_gpkg

        write_territory_gpkg(ref, report, output, existing=register, inputs=inputs)
    if special:
        click.echo(report.to_text().rstrip("\n"))
        click.echo(f"Écrit : {output}", err=True)
    elif fmt == "json":
        emit(report.to_json(), output, inputs)
    elif fmt in ("html", "pdf"):
        from cpts_geo.outputs.html_report import report_html

        prov = run_provenance(
            ctx,
            ref,
            files=[("Proposition", proposal_path), ("Registre", existing_path)],
            parameters=param_texts(min_population=min_population, sea_link_km=sea_link_km),
            register=register,
        )
        text = report_html(ref, report, existing=register, online=online, provenance=prov)
        if fmt == "pdf":
            assert output is not None
            _write_pdf(text, output, inputs)
        else:
            emit(text, output, inputs)
        if output is not None:  # the page went to a file: say what it found
            click.echo(_verdict(report))
    else:
        emit(report.to_text(), output, inputs)
    exit_status(report.status, strict)


def _write_pdf(page: str, output: Path, inputs) -> None:
    """Print the HTML report to ``output`` with headless Chromium. Without Chromium, the HTML
    report is written next to it (same name, .html) and the error (exit 2) says how to print it
    from a browser; so it is when Chromium crashes or hangs (the message names that file, not a
    temporary one already deleted)."""
    import tempfile

    from cpts_geo._io import atomic_write_text
    from cpts_geo.outputs.pdf import PdfError, find_chromium, html_to_pdf

    inputs = [p for p in inputs if p is not None]
    exe = find_chromium()
    if exe is None:
        fallback = output.with_suffix(".html")
        atomic_write_text(fallback, page, inputs=inputs)
        click.echo(f"Écrit : {fallback}", err=True)
        html_to_pdf(fallback, output)  # raises ChromiumMissingError: how to print from a browser
        return
    with tempfile.TemporaryDirectory(prefix="cpts-geo-pdf-") as tmp:
        html_path = Path(tmp) / (output.stem + ".html")
        html_path.write_text(page, encoding="utf-8")
        try:
            html_to_pdf(html_path, output, chromium=exe)
        except PdfError as exc:  # Chromium crashed or hung: keep the HTML the message points to
            fallback = output.with_suffix(".html")
            atomic_write_text(fallback, page, inputs=inputs)
            click.echo(f"Écrit : {fallback}", err=True)
            raise PdfError(str(exc).replace(str(html_path), str(fallback))) from None
    click.echo(f"Écrit : {output}", err=True)


@click.command("check-register", cls=FrenchCommand)
@argument("register_path", metavar="REGISTRE", type=click.Path(dir_okay=False, path_type=Path))
@min_population_option
@sea_link_option
@option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    help="Format du rapport (par défaut : text, ou json pour un -o en .json).",
)
@option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Écrire le rapport dans ce fichier plutôt qu'à l'écran ; .xlsx : classeur Excel "
    "(CPTS × règles, communes partagées, communes enclavées).",
)
@strict_option
@layer_option
@option(
    "--sheet", help="Registre XLSX : la feuille à lire (par défaut : la première qui contient des communes)."
)
@reading_options()
@click.pass_context
@handle_errors
def check_register_cmd(
    ctx, register_path, min_population, sea_link_km, fmt, output, strict, layer, sheet
) -> None:
    """Vérifier chaque CPTS d'un registre, et le registre entier : communes dans deux CPTS,
    communes enclavées par l'ensemble des CPTS.
    """
    from cpts_geo.checks.rules import check_register

    special = _special_output(ctx, output, fmt, (".xlsx",), (".txt", ".json"))
    fmt = format_for(fmt, output)
    if fmt == "html":
        raise click.UsageError("check-register : formats disponibles text et json", ctx=ctx)
    inputs = input_paths(ctx, register_path)
    check_output_paths(ctx, [output], inputs)
    ref = load_ref(ctx)
    register = read_register_warned(register_path, ref, layer, sheet=sheet)
    report = check_register(ref, register, min_population=min_population, sea_link_km=sea_link_km)
    log.info("%s CPTS vérifiées : %s", len(report.reports), _status_label(report.status))
    if special:
        from cpts_geo.outputs.spreadsheets import register_workbook, source_rows
        from cpts_geo.outputs.xlsx import write_workbook

        source = source_rows(
            ref.vintage, files=[register_path], parameters=_check_parameters(min_population, sea_link_km)
        )
        with step("Classeur"):
            write_workbook(output, register_workbook(report, register), source=source, inputs=inputs)
            summary = report.to_text().rstrip("\n")
        click.echo(summary)
        click.echo(f"Écrit : {output}", err=True)
    else:
        with step("Rapport"):
            text = report.json_chunks() if fmt == "json" else report.to_text()
        emit(text, output, inputs)
    exit_status(report.status, strict)


def _hint_perimeter_change(report) -> None:
    """When the proposal overlaps mostly one CPTS of the register (half its population or more),
    it may be a new perimeter of that CPTS: say how to check it as such."""
    overlap = next((r for r in report.rules if r.id == "overlap"), None)
    if overlap is None or overlap.status != "fail":
        return
    total = report.territory.get("population") or 0
    rows = sorted(overlap.details.get("cpts", []), key=lambda r: -int(r.get("population", 0)))
    if rows and total and int(rows[0].get("population", 0)) * 2 >= total:
        top = rows[0]
        click.echo(
            f"Conseil : la proposition reprend surtout « {for_terminal(str(top['cpts_nom']))} » "
            f"({for_terminal(str(top['cpts_id']))}) ; s'il s'agit d'une modification de son périmètre, "
            f"relancez avec --cpts-id {for_terminal(str(top['cpts_id']))}",
            err=True,
        )


def _status_label(status: str) -> str:
    from cpts_geo.checks.report import STATUS_LABELS

    return STATUS_LABELS[status]


def _verdict_rules(report) -> str:
    """Each rule and its status: « Population OK, Continuité ATTENTION, … »."""
    from cpts_geo.checks.report import RULE_LABELS

    return ", ".join(f"{RULE_LABELS.get(r.id, r.id)} {_status_label(r.status)}" for r in report.rules)


def _verdict(report) -> str:
    """The one-line result of a check: « Résultat : ATTENTION (Continuité, EPCI) »."""
    from cpts_geo.checks.report import RULE_LABELS, STATUS_LABELS

    flagged = [RULE_LABELS.get(r.id, r.id) for r in report.rules if r.status != "pass"]
    return f"Résultat : {STATUS_LABELS[report.status]}" + (f" ({', '.join(flagged)})" if flagged else "")


def _check_parameters(min_population, sea_link_km) -> list[tuple]:
    """The parameters of the checks, for the "Source" sheet of a workbook."""
    return [
        ("Population minimale", min_population, 20000),
        ("Distance des liaisons maritimes (km)", sea_link_km, 30.0),
    ]


def _special_output(
    ctx, output: Path | None, fmt: str | None, suffixes: tuple[str, ...], reports: tuple[str, ...]
) -> str | None:
    """The suffix of an ``-o`` workbook or GeoPackage (None for a report: ``reports`` are the
    suffixes a report may have); such an output takes no ``--format``. Any other suffix is
    refused (a report written as text under a ``.docx`` name would not open)."""
    written = output.suffix if output is not None else ""
    suffix = written.lower()
    if suffix and suffix not in suffixes + reports:
        known = ", ".join(sorted(set(suffixes + reports)))
        raise click.UsageError(f"-o {output} : extension « {written} » inconnue ; formats : {known}", ctx=ctx)
    if suffix not in suffixes:
        return None
    if fmt is not None:
        raise click.UsageError(f"--format {fmt} : sans objet pour une sortie {suffix} (-o {output})", ctx=ctx)
    return suffix
