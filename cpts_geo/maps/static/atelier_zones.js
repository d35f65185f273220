/* cpts-geo atelier: the zone layers (--zones) of the builder page.
 *
 * data.zones (cpts_geo.maps.atelier_zones.atelier_zones_payload), one entry per layer:
 *   name, kind ("communes" | "epci" | "polygones"), kind_label, categories,
 *   unit[], cat[], share[] | null, polys[] | null   one row per (category, page unit), in
 *                                                   category order then reference order
 *   overlay                                         GeoJSON of cpts_geo.maps.zones (hatched by zones.js)
 *
 * window.AtelierZones.model(data, text) -> null without layers, else:
 *   figures(units)  the zones the units touch, shaped like the check JSON's `zones`
 *                   (cpts_geo.checks.zones.territory_zones)
 *   lines(zones)    the report's « Zones » lines (cpts_geo.checks.zones.zone_lines)
 *   panel(el, units)  the « Zones » section of the verdict panel appended to el (text nodes)
 *   tooltip(p)      the zones of one unit, for its tooltip (plain text, to escape)
 *   draw(map, escapeHtml)  the overlays (SVG, hatched, not clickable), a layer control to
 *                   toggle them and a legend section per layer shown with its overlay
 */
(function () {
  'use strict';

  var LIMIT = 20;

  function model(data, T) {
    var layers = data.zones || [];
    if (!layers.length) return null;
    var n = data.units.code.length;
    var M = { code: data.units.code, nom: data.units.nom, pop: data.units.pop };
    // Per unit, the rows of each layer that hold it (tooltips).
    var byUnit = [];
    for (var i = 0; i < n; i++) byUnit.push([]);
    layers.forEach(function (L, k) {
      L.unit.forEach(function (p, r) { byUnit[p].push([k, r]); });
    });

    function figures(units) {
      var inside = new Uint8Array(n);
      units.forEach(function (p) { inside[p] = 1; });
      var out = [];
      layers.forEach(function (L) {
        var poly = L.kind === 'polygones';
        var groups = L.categories.map(function () { return []; });
        L.unit.forEach(function (p, r) {
          if (!inside[p]) return;
          var u = { code: M.code[p], nom: M.nom[p], population: M.pop[p] };
          if (poly) {
            u.share = L.share[r];
            u.polygones = L.polys[r].slice();
          }
          groups[L.cat[r]].push(u);
        });
        groups.forEach(function (us, c) {
          if (!us.length) return;
          out.push({
            layer: L.name,
            kind: L.kind,
            category: L.categories[c],
            n_units: us.length,
            population: us.reduce(function (s, u) { return s + u.population; }, 0),
            units: us
          });
        });
      });
      return out;
    }

    function unitsWord(k, kind) {
      return T.frPlural(k, 'commune') + (kind === 'polygones' ? ' touchée' + (k > 1 ? 's' : '') : '');
    }

    function lines(zones) {
      var out = [];
      var kinds = {};
      layers.forEach(function (L) { kinds[L.kind] = L.kind_label; });
      var names = layers.map(function (L) { return L.name; });
      zones.forEach(function (z) { if (names.indexOf(z.layer) < 0) names.push(z.layer); });
      names.forEach(function (name) {
        var mine = zones.filter(function (z) { return z.layer === name; });
        if (!mine.length) {
          out.push('  ' + name + ' : aucune commune du territoire dans ces zones');
          return;
        }
        var kind = mine[0].kind;
        var parts = mine.map(function (z, i) {
          var what = i === 0 ? unitsWord(z.n_units, kind) : T.frInt(z.n_units);
          var sep = kind === 'polygones' ? ' par ' : ' en ';
          var single = mine.length === 1 && z.category === name;
          return what + (single ? '' : sep + z.category) + ' (' + T.frInt(z.population) + ' hab.)';
        });
        out.push('  ' + name + ' (' + kinds[kind] + ') : ' + parts.join(', '));
        mine.forEach(function (z) {
          var shown = z.units.slice(0, LIMIT);
          var items = shown.map(function (u) {
            var text = u.nom + ' (' + u.code + ')';
            if (kind === 'polygones') {
              text += ' ' + T.frShare(u.share) + ' de sa surface';
              if (u.polygones && u.polygones.length) {
                text += ' : ' + u.polygones.slice(0, 3).join(', ') + (u.polygones.length > 3 ? ' …' : '');
              }
            }
            return text;
          });
          var more = z.units.length - shown.length;
          out.push('    ' + z.category + ' : ' + items.join(kind === 'polygones' ? ' ; ' : ', ') +
            (more > 0 ? ' et ' + T.frInt(more) + ' autre(s)' : ''));
        });
      });
      return out;
    }

    function panel(el, units) {
      var h = document.createElement('h3');
      h.textContent = 'Zones';
      el.appendChild(h);
      lines(figures(units)).forEach(function (ln) {
        var p = document.createElement('p');
        p.className = 'at-zone-line' + (/^ {4}/.test(ln) ? ' at-zone-units' : '');
        p.textContent = ln.trim();
        el.appendChild(p);
      });
    }

    function tooltip(p) {
      var per = {};
      byUnit[p].forEach(function (kr) {
        var L = layers[kr[0]];
        var r = kr[1];
        // A layer of one zone named after it (zones rouges) says only its name.
        var cat = L.categories[L.cat[r]];
        var bits = cat === L.name ? [] : [cat];
        if (L.kind === 'polygones') bits.push(L.polys[r].join(', ') + ', ' + T.frShare(L.share[r]) + ' de sa surface');
        (per[kr[0]] = per[kr[0]] || []).push(bits.join(' : '));
      });
      return Object.keys(per).map(function (k) {
        var text = per[k].filter(Boolean).join(' ; ');
        return layers[k].name + (text ? ' : ' + text : '');
      });
    }

    function draw(map, escapeHtml) {
      var svg = L.svg({ padding: 0.2 });
      var overlays = {};
      var sections = [];
      var patterns = [];
      layers.forEach(function (Z, k) {
        var o = Z.overlay;
        if (!o) return;
        var group = L.geoJSON(o, {
          renderer: svg,
          interactive: false,
          style: function (f) {
            var s = o.legend[Z.categories.indexOf(f.properties.category)];
            return s ? s.style : { color: f.properties.color };
          }
        });
        group._atZone = k;
        group.addTo(map);
        overlays['Zones : ' + escapeHtml(Z.name)] = group;
        patterns = patterns.concat(o.patterns);
        var angle = o.patterns.length ? o.patterns[0].angle : 45;
        var html = '<div class="at-zone-legend" data-zone="' + k + '"><b>' + escapeHtml(Z.name + ' (' + Z.kind_label + ')') + '</b>';
        o.legend.forEach(function (e) {
          var c = escapeHtml(e.style.color);
          html += '<br><i class="at-zone-swatch" style="background:repeating-linear-gradient(' + (90 - angle) + 'deg,' + c +
            ' 0 2px,transparent 2px 6px);border:1.6px solid ' + c + '"></i>' + escapeHtml(e.label);
        });
        sections.push(html + '</div>');
      });
      // Clicks go through the hatching to the communes below (canvas).
      if (svg._container) svg._container.style.pointerEvents = 'none';
      window.cptsZonePatterns(map, patterns);
      L.control.layers(null, overlays, { collapsed: false, position: 'topright' }).addTo(map);
      var legend = L.control({ position: 'bottomright' });
      legend.onAdd = function () {
        var div = L.DomUtil.create('div', 'at-legend at-zones-legend');
        div.innerHTML = sections.join('');
        return div;
      };
      legend.addTo(map);
      function show(e, on) {
        if (!e.layer || e.layer._atZone === undefined) return;
        var el = legend.getContainer().querySelector('[data-zone="' + e.layer._atZone + '"]');
        if (el) el.hidden = !on;
      }
      map.on('overlayadd', function (e) { show(e, true); });
      map.on('overlayremove', function (e) { show(e, false); });
      return overlays;
    }

    return { layers: layers, figures: figures, lines: lines, panel: panel, tooltip: tooltip, draw: draw };
  }

  window.AtelierZones = { model: model };
})();
