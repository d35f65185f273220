#!/usr/bin/env python3
"""Open a GeoPackage with QGIS itself (PyQGIS, headless) and report the styles QGIS applied.

Run it with a Python that has the ``qgis`` module (e.g. Debian's ``python3-qgis``: ``/usr/bin/python3``),
not the project's virtual environment::

    /usr/bin/python3 scripts/qgis_open_check.py carte.gpkg [--png rendu.png]

Prints one JSON object: for each spatial layer, whether QGIS opened it, the renderer it applied
(loaded from the default style of ``layer_styles``, as when a user adds the layer), its
categories or symbol layers with their colours (``#aarrggbb``), and whether labels are on.
With ``--png`` QGIS also renders all the layers (the first at the bottom) into a picture.
"""

from __future__ import annotations

import argparse
import json
import os
import sys


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("gpkg")
    p.add_argument("--png")
    p.add_argument("--size", type=int, default=900, help="width of the picture (pixels)")
    p.add_argument("--crs", default="EPSG:2154", help="CRS of the picture (Lambert-93 by default)")
    a = p.parse_args(argv)

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from qgis.core import (  # noqa: PLC0415
        Qgis,
        QgsApplication,
        QgsCoordinateReferenceSystem,
        QgsCoordinateTransform,
        QgsDataProvider,
        QgsMapRendererParallelJob,
        QgsMapSettings,
        QgsProject,
        QgsRectangle,
        QgsVectorLayer,
    )
    from qgis.PyQt.QtCore import QSize  # noqa: PLC0415
    from qgis.PyQt.QtGui import QColor  # noqa: PLC0415

    app = QgsApplication([], False)
    app.initQgis()
    probe = QgsVectorLayer(a.gpkg, "probe", "ogr")  # its provider lists the file's layers
    names = [s.split(QgsDataProvider.SUBLAYER_SEPARATOR)[1] for s in probe.dataProvider().subLayers()]

    def colour(c) -> str:
        return c.name(QColor.HexArgb)

    def symbol_layers(sym) -> list[dict]:
        out = []
        for sl in sym.symbolLayers():
            d = {"class": sl.layerType(), "color": colour(sl.color())}
            if sl.layerType() == "SimpleFill":
                d["stroke"] = colour(sl.strokeColor())
                d["stroke_width"] = sl.strokeWidth()
                d["stroke_style"] = int(sl.strokeStyle())
            if sl.layerType() == "LinePatternFill":
                d["angle"] = sl.lineAngle()
                d["distance"] = sl.distance()
                d["line_width"] = sl.lineWidth()
                d["line_color"] = colour(sl.subSymbol().color())
            if sl.layerType() == "SimpleLine":
                d["width"] = sl.width()
                d["custom_dash"] = bool(sl.useCustomDashPattern())
            out.append(d)
        return out

    report, layers = {"qgis": Qgis.QGIS_VERSION, "layers": {}}, []
    for name in names:
        layer = QgsVectorLayer(f"{a.gpkg}|layername={name}", name, "ogr")
        if not layer.isValid() or not layer.isSpatial():
            report["layers"][name] = {"valid": layer.isValid(), "spatial": False}
            continue
        r = layer.renderer()
        info = {
            "valid": True,
            "features": layer.featureCount(),
            "renderer": r.type(),
            "labels": layer.labelsEnabled(),
        }
        if r.type() == "categorizedSymbol":
            info["attribute"] = r.classAttribute()
            info["categories"] = [
                {"value": c.value(), "label": c.label(), "symbol": symbol_layers(c.symbol())}
                for c in r.categories()
            ]
        elif r.type() == "singleSymbol":
            info["symbol"] = symbol_layers(r.symbol())
        if layer.labelsEnabled():
            info["label_field"] = layer.labeling().settings().fieldName
        report["layers"][name] = info
        layers.append(layer)

    if a.png and layers:
        settings = QgsMapSettings()
        settings.setLayers(list(reversed(layers)))  # QGIS draws the first of the list on top
        # Drawn in Lambert-93 (or --crs), not in degrees, so the map is not stretched east-west.
        dest = QgsCoordinateReferenceSystem(a.crs)
        extent = QgsRectangle()
        for layer in layers:
            tr = QgsCoordinateTransform(layer.crs(), dest, QgsProject.instance())
            extent.combineExtentWith(tr.transformBoundingBox(layer.extent()))
        extent.scale(1.05)
        settings.setDestinationCrs(dest)
        settings.setExtent(extent)
        settings.setOutputSize(QSize(a.size, int(a.size * extent.height() / max(extent.width(), 1e-9))))
        settings.setBackgroundColor(QColor(255, 255, 255))
        job = QgsMapRendererParallelJob(settings)
        job.start()
        job.waitForFinished()
        job.renderedImage().save(a.png, "png")
        report["png"] = a.png
    print(json.dumps(report, ensure_ascii=False, indent=1), flush=True)
    # PyQGIS may crash while tearing down layers at interpreter exit: leave without teardown.
    os._exit(0)


if __name__ == "__main__":
    sys.exit(main())
