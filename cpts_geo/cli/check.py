"""``cpts-geo check, check-register``: check a proposed territory, audit a register."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from cpts_geo._progress import step, track
from cpts_geo._text import for_terminal, fr_plural
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
    read_zone_layers,
    reading_kwargs,
    reading_options,
    run_provenance,
    sea_link_option,
    strict_option,
    warn_inputs,
    zone_paths,
    zones_options,
)

#: Suffixes of ``-o`` for a report (text, JSON, HTML or PDF, chosen by ``--format`` or the suffix).
_REPORTS = (".txt", ".json", ".html", ".htm", ".pdf")


@click.command("check", cls=FrenchCommand)
@argument(
    "proposal_paths", metavar="PROPOSITION...", nargs=-1, required=True, type=click.Path(path_type=Path)
)
@option(
    "--existing",
    "existing_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Registre des CPTS existantes (CSV/XLSX/ODS/GeoJSON/GPKG) pour vérifier les chevauchements.",
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
@option("--sheet", help="Proposition XLSX ou ODS : la feuille à lire (par défaut : la première).")
@option("--departement", help="Département qui lève l'ambiguïté des noms de communes de la proposition.")
@option("--name", "name", help="Nom du territoire dans le rapport (par défaut : d'après le fichier).")
@option("--cpts-id", help="Identifiant de cette CPTS dans le registre (elle n'est pas comparée à elle-même).")
@option(
    "--reports",
    "reports_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Plusieurs propositions : écrire aussi un rapport par proposition dans ce dossier (créé "
    "au besoin), au format de --format (par défaut : html).",
)
@online_option
@offline_option
@reading_options()
@zones_options
@click.pass_context
@handle_errors
def check_cmd(
    ctx,
    proposal_paths,
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
    reports_dir,
    online,
    offline,
) -> None:
    """Vérifier un territoire de CPTS proposé : population, continuité, enclaves, EPCI,
    départements et régions, chevauchement avec les CPTS existantes.

    PROPOSITION est une liste de communes CSV/TXT/XLSX/ODS (codes ou noms) ou un polygone GeoJSON/GPKG.

    Plusieurs fichiers, ou un dossier : chaque proposition est vérifiée et une synthèse est
    affichée, une ligne par proposition (-o synthese.xlsx pour l'écrire, --reports DOSSIER pour
    un rapport par proposition). Un fichier illisible est signalé sans arrêter les autres.

    Code de sortie 0 : toutes les règles sont passées ou en avertissement ; 1 : une règle a
    échoué (ou averti, avec --strict) ; 2 : une entrée n'a pas pu être lue.
    """
    if len(proposal_paths) > 1 or proposal_paths[0].is_dir():
        _check_batch(
            ctx,
            proposal_paths,
            existing_path=existing_path,
            existing_layer=existing_layer,
            min_population=min_population,
            sea_link_km=sea_link_km,
            fmt=fmt,
            output=output,
            strict=strict,
            options={"sheet": sheet, "departement": departement, "layer": layer},
            name=name,
            cpts_id=cpts_id,
            reports_dir=reports_dir,
            online=online,
        )
        return
    if reports_dir is not None:
        raise click.UsageError(
            "--reports : pour plusieurs propositions (un dossier ou plusieurs fichiers) ; "
            "pour une seule, écrivez son rapport avec -o",
            ctx=ctx,
        )
    (proposal_path,) = proposal_paths
    special = _special_output(ctx, output, fmt, (".xlsx", ".gpkg"), _REPORTS)
    fmt = format_for(fmt, output)
    if fmt == "pdf" and output is None:
        raise click.UsageError("--format pdf : indiquez le fichier PDF à écrire avec -o", ctx=ctx)
    if existing_layer is not None and existing_path is None:
        raise click.UsageError("--existing-layer : sans objet sans --existing", ctx=ctx)
    inputs = input_paths(ctx, proposal_path, existing_path, *zone_paths())
    check_output_paths(ctx, [output], inputs)
    ref = load_ref(ctx)
    zones = read_zone_layers(ref)
    # --skip-rows is for the proposal; --prefer and --crs for both files.
    proposal = _read_one(ref, proposal_path, {"sheet": sheet, "departement": departement, "layer": layer})
    register = _read_existing(ref, existing_path, existing_layer)
    report = _check_read(
        ref,
        proposal,
        register,
        name=name,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
        zones=zones,
    )
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
            files=[("Proposition", proposal_path), ("Registre", existing_path)]
            + [("Zones", p) for p in zone_paths()],
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


def _read_existing(ref, existing_path, existing_layer):
    """The register of ``--existing`` (None without it), its reading warnings shown."""
    if existing_path is None:
        return None
    return read_register_warned(
        existing_path, ref, existing_layer, skip_rows=False, layer_option="--existing-layer"
    )


def _read_one(ref, proposal_path: Path, options: dict):
    """Read one proposal, its reading warnings shown."""
    from cpts_geo.inputs.read import read_proposal

    proposal = read_proposal(proposal_path, ref, **options, **reading_kwargs(register=False))
    warn_inputs(proposal_path, proposal.warnings)
    log.info(
        "Proposition lue : %s, %s unités, %s correction(s)",
        proposal_path,
        len(proposal.codes),
        len(proposal.warnings),
    )
    return proposal


def _check_read(ref, proposal, register, *, name, min_population, sea_link_km, cpts_id, zones=None):
    """Check a proposal that was read (``zones``: the layers of ``--zones``, read once)."""
    from cpts_geo.checks.rules import check_territory

    report = check_territory(
        ref,
        proposal,
        name=name,
        existing=register,
        min_population=min_population,
        sea_link_km=sea_link_km,
        cpts_id=cpts_id,
        zones=zones,
    )
    log.info("Règles vérifiées : %s", _verdict_rules(report))
    return report


#: Suffix of each report written by ``--reports``, by ``--format``.
_REPORT_SUFFIX = {"text": ".txt", "json": ".json", "html": ".html", "pdf": ".pdf"}
#: Suffixes of the batch summary (``-o``).
_SUMMARIES = (".xlsx", ".json", ".txt", ".csv")


def _check_batch(
    ctx,
    paths,
    *,
    existing_path,
    existing_layer,
    min_population,
    sea_link_km,
    fmt,
    output,
    strict,
    options,
    name,
    cpts_id,
    reports_dir,
    online,
) -> None:
    """``check`` of several proposals (files, or the files of folders): one summary, a report per
    proposal with ``--reports``; an unreadable file is reported and the others go on; the exit
    code is the worst (2 when a file could not be read)."""
    from cpts_geo._errors import CptsGeoError
    from cpts_geo.checks.batch import BatchEntry, BatchSummary

    for flag, value in (("--name", name), ("--cpts-id", cpts_id)):
        if value is not None:
            raise click.UsageError(f"{flag} : sans objet pour plusieurs propositions", ctx=ctx)
    if existing_layer is not None and existing_path is None:
        raise click.UsageError("--existing-layer : sans objet sans --existing", ctx=ctx)
    suffix = output.suffix.lower() if output is not None else ""
    if output is not None and suffix not in _SUMMARIES:
        raise click.UsageError(
            f"-o {output} : plusieurs propositions : la synthèse s'écrit en {', '.join(_SUMMARIES)} "
            "(un rapport par proposition : --reports DOSSIER)",
            ctx=ctx,
        )
    if fmt is not None and reports_dir is None and fmt != "json":
        raise click.UsageError(
            f"--format {fmt} : plusieurs propositions : --format donne le format des rapports de "
            "--reports DOSSIER (ou json pour la synthèse)",
            ctx=ctx,
        )
    report_fmt = (fmt or "html") if reports_dir is not None else None
    if report_fmt == "pdf":
        from cpts_geo.outputs.pdf import find_chromium

        if find_chromium() is None:
            raise click.UsageError(
                "--format pdf : Chromium introuvable pour imprimer les rapports ; écrivez-les en "
                "html (--format html) et imprimez-les depuis un navigateur",
                ctx=ctx,
            )

    items = _proposal_paths_of(paths)
    files = [p for p in items if isinstance(p, Path)]
    inputs = input_paths(ctx, *files, existing_path, *zone_paths())
    targets = []
    if reports_dir is not None:
        if reports_dir.exists() and not reports_dir.is_dir():
            raise click.UsageError(f"--reports {reports_dir} : est un fichier, pas un dossier", ctx=ctx)
        reports_dir.mkdir(parents=True, exist_ok=True)
        targets = _report_targets(files, reports_dir, _REPORT_SUFFIX[report_fmt])  # type: ignore[index]
    check_output_paths(ctx, [output, *targets], inputs)
    ref = load_ref(ctx)
    zones = read_zone_layers(ref)
    register = _read_existing(ref, existing_path, existing_layer)
    params = param_texts(min_population=min_population, sea_link_km=sea_link_km)
    entries: list[BatchEntry] = []
    k = -1  # the position of the proposal among ``files`` (and of its report among ``targets``)
    for item in track(items, "Vérification des propositions"):
        if isinstance(item, BatchEntry):
            entries.append(item)
            continue
        k += 1
        log.info("Proposition %s/%s : %s", k + 1, len(files), item)
        try:
            report = _check_read(
                ref,
                _read_one(ref, item, options),
                register,
                name=None,
                min_population=min_population,
                sea_link_km=sea_link_km,
                cpts_id=None,
                zones=zones,
            )
        except (CptsGeoError, OSError) as exc:
            entries.append(BatchEntry(item, error=_error_text(exc)))
            continue
        entry = BatchEntry(item, report=report)
        if targets:
            try:
                _write_report(
                    ctx, ref, report, register, report_fmt, targets[k], (item, existing_path), params, online
                )
            except (CptsGeoError, OSError) as exc:  # the check stands; its report is missing
                entry.error = f"rapport {targets[k]} non écrit : {_error_text(exc)}"
        entries.append(entry)
    summary = BatchSummary(entries)
    if suffix == ".xlsx":
        from cpts_geo.outputs.spreadsheets import batch_workbook, source_rows
        from cpts_geo.outputs.xlsx import write_workbook

        source = source_rows(
            ref.vintage,
            files=[*files, existing_path],
            parameters=_check_parameters(min_population, sea_link_km),
        )
        write_workbook(output, batch_workbook(summary), source=source, inputs=inputs)
    elif suffix == ".csv":
        from cpts_geo.outputs.spreadsheets import batch_csv

        emit(batch_csv(summary), output, inputs)
    elif suffix in (".json", ".txt"):
        emit(summary.to_json() if suffix == ".json" else summary.to_text(), output, inputs)
    if fmt == "json" and reports_dir is None and output is None:
        emit(summary.to_json(), None, inputs)
    else:
        click.echo(for_terminal(summary.to_text().rstrip("\n")))
    done = [t for t in targets if t.exists()]
    if done:
        click.echo(f"Écrit : {fr_plural(len(done), 'rapport')} dans {reports_dir}", err=True)
    if output is not None:
        click.echo(f"Écrit : {output}", err=True)
    if summary.status == "error":
        sys.exit(2)
    exit_status(summary.status, strict)


def _error_text(exc: Exception) -> str:
    """The French message of an error the command reports and goes on."""
    from cpts_geo._errors import os_error_text
    from cpts_geo.cli.options import with_flags

    return os_error_text(exc) if isinstance(exc, OSError) else with_flags(str(exc))


def _proposal_paths_of(paths) -> list:
    """The proposals named by the command line, in order: a file as it is, a folder as its
    proposals (sorted by name) followed by an entry for each of its other files (an empty folder
    is an entry too: nothing given is passed over without a word)."""
    from cpts_geo.checks.batch import BatchEntry, proposal_files

    out: list = []
    for p in paths:
        if p.is_dir():
            found, other = proposal_files(p)
            out += [*found, *other] if found or other else [BatchEntry(p, error="dossier vide")]
        else:
            out.append(p)
    return out


def _report_targets(files: list[Path], folder: Path, suffix: str) -> list[Path]:
    """One report path per proposal in ``folder``: its stem and ``suffix``, its whole name when
    two proposals share a stem (``liste.csv`` and ``liste.xlsx``)."""
    stems = [f.stem for f in files]
    return [folder / ((f.stem if stems.count(f.stem) == 1 else f.name) + suffix) for f in files]


def _write_report(ctx, ref, report, register, fmt, target: Path, files, params, online) -> None:
    """One report of a batch, in ``fmt`` (text, json, html, pdf), written atomically."""
    from cpts_geo._io import atomic_write_text

    target.parent.mkdir(parents=True, exist_ok=True)
    inputs = [f for f in files if f is not None]
    if fmt == "text":
        atomic_write_text(target, report.to_text(), inputs=inputs)
    elif fmt == "json":
        atomic_write_text(target, report.to_json() + "\n", inputs=inputs)
    else:
        from cpts_geo.outputs.html_report import report_html

        proposal_path, existing_path = files
        prov = run_provenance(
            ctx,
            ref,
            files=[("Proposition", proposal_path), ("Registre", existing_path)],
            parameters=params,
            register=register,
        )
        page = report_html(ref, report, existing=register, online=online, provenance=prov)
        if fmt == "pdf":
            import tempfile

            from cpts_geo.outputs.pdf import html_to_pdf

            with tempfile.TemporaryDirectory(prefix="cpts-geo-pdf-") as tmp:
                html_path = Path(tmp) / (target.stem + ".html")
                html_path.write_text(page, encoding="utf-8")
                html_to_pdf(html_path, target)
        else:
            atomic_write_text(target, page, inputs=inputs)


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
    "--sheet",
    help="Registre XLSX ou ODS : la feuille à lire (par défaut : la première qui contient des communes).",
)
@reading_options()
@zones_options
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
    inputs = input_paths(ctx, register_path, *zone_paths())
    check_output_paths(ctx, [output], inputs)
    ref = load_ref(ctx)
    zones = read_zone_layers(ref)
    register = read_register_warned(register_path, ref, layer, sheet=sheet)
    report = check_register(
        ref, register, min_population=min_population, sea_link_km=sea_link_km, zones=zones
    )
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
