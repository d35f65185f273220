/* cpts-geo atelier: the builder page. Click communes to build a territory; the rules
 * (atelier_rules.js) are checked on every change.
 *
 * window.atelier (stable, documented in the README):
 *   ready          true once the page is drawn (readyMs: when, since navigation start)
 *   select(codes)  replace the selection by these unit codes (unknown codes are returned)
 *   toggle(code)   add or remove one unit
 *   clear(), undo(), redo()
 *   checks()       the verdict, shaped like `cpts-geo check --format json`
 *   state()        the URL hash of the selection ("#s=49007,49099")
 *   exportCsv()    the CSV text (code_insee,nom) that `cpts-geo check` reads
 *   links()        the links drawn on the map: [{kind ("mer" | "eau"), a, b, distance_km}]
 *   zoneLines()    with --zones: the verdict's « Zones » lines, as `cpts-geo check` writes them
 */
(function () {
  'use strict';

  var R = window.AtelierRules;
  var data = JSON.parse(document.getElementById('atelier-data').textContent);
  if (data.version !== 2) {
    document.body.textContent = 'Cette page a été écrite par une autre version de cpts-geo (données v' + data.version +
      ') que son script (v2) : régénérez-la avec cpts-geo atelier.';
    return;
  }
  var M = R.model(data);
  var T = R.text;
  var n = M.n;
  var reg = data.register;
  var params = data.params;
  // Zone layers (--zones): atelier_zones.js; null without them.
  var Z = window.AtelierZones ? window.AtelierZones.model(data, T) : null;

  var selected = new Uint8Array(n);
  var past = [];
  var future = [];
  var report = null;
  var unlocked = false;
  var $ = function (id) { return document.getElementById(id); };

  // ---- text helpers ------------------------------------------------------------------------
  function fold(s) {
    return String(s)
      .normalize('NFD')
      .replace(/[\u0300-\u036f]/g, '')
      .toLowerCase()
      .replace(/œ/g, 'oe')
      .replace(/æ/g, 'ae')
      .replace(/[^a-z0-9]+/g, ' ')
      .trim();
  }
  function depOf(p) { return data.deps.code[M.dep[p]]; }

  // ---- register: CPTS of each unit, locks ---------------------------------------------------------
  var unitCpts = [];
  for (var i = 0; i < n; i++) unitCpts.push([]);
  if (reg) reg.rows.forEach(function (r) { unitCpts[r[1]].push(r[0]); });
  function lockedBy(p) {
    if (unlocked) return [];
    return unitCpts[p].filter(function (c) { return reg.ids[c] !== params.cpts_id; });
  }
  var STAGE_COLORS = { aci: '#1b7837', 'projet-sante': '#5aae61', 'lettre-intention': '#a6dba0', 'pre-projet': '#c7e9b4', '': '#c2a5cf' };
  var STAGE_NAMES = { aci: 'ACI signé', 'projet-sante': 'projet de santé validé', 'lettre-intention': "lettre d'intention validée", 'pre-projet': 'pré-projet', '': 'stade non renseigné' };

  // ---- the map -----------------------------------------------------------------------------
  $('at-title').textContent = 'Atelier CPTS — ' + (data.title || '');
  var map = L.map('at-map', { preferCanvas: true, zoomSnap: 0.25, boxZoom: false });
  var renderer = L.canvas({ padding: 0.2, tolerance: 2 });
  var layers = new Array(n);
  var bounds = L.latLngBounds([]);
  var areaBounds = L.latLngBounds([]);
  var SCALE = 100000;

  function decode(polys) {
    return polys.map(function (rings) {
      return rings.map(function (flat) {
        var out = [];
        var x = 0;
        var y = 0;
        for (var k = 0; k < flat.length; k += 2) {
          x += flat[k];
          y += flat[k + 1];
          out.push([y / SCALE, x / SCALE]);
        }
        return out;
      });
    });
  }

  function baseStyle(p) {
    var owners = unitCpts[p];
    var inArea = data.units.area[p];
    var st = { renderer: renderer, weight: 0.6, color: '#6b7b8c', fillOpacity: inArea ? 0.55 : 0.3, fillColor: inArea ? '#f4f1e8' : '#e3e3e3' };
    if (owners.length && reg) {
      st.fillColor = owners.length > 1 && !M.shared[p] ? '#e08214' : STAGE_COLORS[reg.stages[owners[0]]] || STAGE_COLORS[''];
    }
    if (selected[p]) {
      st.fillColor = '#2166ac';
      st.fillOpacity = 0.65;
      st.color = '#0b3a6e';
      st.weight = 1.2;
    }
    return st;
  }

  var geom = data.geom || [];
  for (i = 0; i < n; i++) {
    var g = geom[i];
    if (!g || !g.length) continue;
    var lyr = L.polygon(decode(g), baseStyle(i));
    lyr._atUnit = i;
    lyr.bindTooltip(tooltipText(i), { sticky: true });
    lyr.on('click', onUnitClick);
    lyr.addTo(map);
    layers[i] = lyr;
    bounds.extend(lyr.getBounds());
    if (data.units.area[i]) areaBounds.extend(lyr.getBounds());
  }
  // The départements' boundaries, then the outline of each existing CPTS, above the units (not
  // clickable).
  (data.deps.outlines || []).forEach(function (o) {
    if (o && o.length) L.polygon(decode(o), { renderer: renderer, fill: false, weight: 2.5, color: '#5b4a8a', opacity: 0.9, dashArray: '6 4', interactive: false }).addTo(map);
  });
  if (reg && reg.outlines) {
    reg.outlines.forEach(function (o) {
      if (o && o.length) L.polygon(decode(o), { renderer: renderer, fill: false, weight: 2, color: '#1d3b18', opacity: 0.85, interactive: false }).addTo(map);
    });
  }
  // The sea links and water crossings that join the parts of the territory (the contiguity
  // rule's details), drawn as the check map draws them: dashed, with their length.
  var LINK_STYLES = {
    mer: { color: '#0b4f8a', weight: 3, dashArray: '8 6', opacity: 0.95 },
    eau: { color: '#0b4f8a', weight: 3, dashArray: '2 5', opacity: 0.95 }
  };
  var LINK_TITLES = { mer: 'Liaison maritime', eau: "Traversée par l'eau" };
  var segments = {};
  var linkKinds = {};
  data.links.forEach(function (lk) {
    segments[lk[0] + ',' + lk[1] + ',' + lk[2]] = lk.slice(4, 8);
    linkKinds[lk[2]] = true;
  });
  var linkLayer = L.layerGroup().addTo(map);
  var drawn = [];
  function drawLinks() {
    linkLayer.clearLayers();
    drawn = [];
    var c = report && report.rules[1].details;
    if (!c) return;
    [['mer', c.sea_links], ['eau', c.water_crossings]].forEach(function (kl) {
      kl[1].forEach(function (lk) {
        var s = segments[M.index[lk.a] + ',' + M.index[lk.b] + ',' + kl[0]];
        if (!s || s.length < 4) return;
        var line = L.polyline([[s[1], s[0]], [s[3], s[2]]], Object.assign({ renderer: renderer, interactive: true }, LINK_STYLES[kl[0]]));
        line.bindTooltip(LINK_TITLES[kl[0]] + ' : ' + escapeHtml(lk.a_nom) + ' – ' + escapeHtml(lk.b_nom) + ' (' + T.frKm(lk.distance_km) + '\u00a0km)', { sticky: true });
        linkLayer.addLayer(line);
        // Its length at its middle, readable at any zoom (a crossing of 400 m is a dot).
        var mid = [(s[1] + s[3]) / 2, (s[0] + s[2]) / 2];
        linkLayer.addLayer(L.marker(mid, {
          interactive: false,
          keyboard: false,
          icon: L.divIcon({ className: 'at-link-label', html: T.frKm(lk.distance_km) + '\u00a0km', iconSize: null })
        }));
        drawn.push({ kind: kl[0], a: lk.a, b: lk.b, distance_km: lk.distance_km });
      });
    });
  }

  if (areaBounds.isValid()) map.fitBounds(areaBounds);
  else if (bounds.isValid()) map.fitBounds(bounds);
  else map.setView([46.6, 2.4], 6);
  L.control.scale({ imperial: false }).addTo(map);
  if (Z) Z.draw(map, escapeHtml);

  var legend = L.control({ position: 'bottomleft' });
  legend.onAdd = function () {
    var div = L.DomUtil.create('div', 'at-legend');
    var html = '<i style="background:#2166ac"></i>Territoire en construction<br>';
    if (reg) {
      var stages = ['aci', 'projet-sante', 'lettre-intention', 'pre-projet'];
      if (reg.stages.indexOf('') >= 0) stages.push('');
      stages.forEach(function (s) {
        html += '<i style="background:' + STAGE_COLORS[s] + '"></i>CPTS existante : ' + STAGE_NAMES[s] + '<br>';
      });
      html += '<i style="background:#e08214"></i>Commune dans plusieurs CPTS<br>';
      html += '<i style="background:none;border:2px solid #1d3b18"></i>Contour d\u2019une CPTS existante<br>';
    }
    if (linkKinds.mer) html += '<i class="at-link" style="border-top:3px dashed #0b4f8a"></i>Liaisons maritimes<br>';
    if (linkKinds.eau) html += '<i class="at-link" style="border-top:3px dotted #0b4f8a"></i>Traversées par l\'eau<br>';
    html += '<i style="background:#e3e3e3"></i>Hors de la zone (voisines)<br>';
    html += '<i style="background:none;border:2px dashed #5b4a8a"></i>Limite de département';
    div.innerHTML = html;
    return div;
  };
  legend.addTo(map);

  function tooltipText(p) {
    var e = M.epci[p];
    var lines = [escapeHtml(M.nom[p]) + ' (' + M.code[p] + ')', T.frInt(M.pop[p]) + ' hab. (' + data.vintage.population + ')'];
    if (e >= 0) lines.push('EPCI : ' + escapeHtml(data.epci.nom[e]));
    lines.push('Département : ' + escapeHtml(data.deps.nom[M.dep[p]]) + ' (' + depOf(p) + ')');
    if (Z) Z.tooltip(p).forEach(function (t) { lines.push(escapeHtml(t)); });
    if (reg && unitCpts[p].length) {
      lines.push('CPTS : ' + unitCpts[p].map(function (c) {
        return escapeHtml(reg.names[c] || reg.ids[c]) + ' (' + escapeHtml(STAGE_NAMES[reg.stages[c]] || reg.stages[c]) + ')';
      }).join(', '));
    }
    return lines.join('<br>');
  }

  function escapeHtml(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  }

  // ---- selection, history -------------------------------------------------------------------------
  function current() {
    var out = [];
    for (var p = 0; p < n; p++) if (selected[p]) out.push(p);
    return out;
  }

  function apply(units, record) {
    var before = current();
    var next = new Uint8Array(n);
    units.forEach(function (p) { next[p] = 1; });
    var changed = [];
    for (var p = 0; p < n; p++) if (next[p] !== selected[p]) changed.push(p);
    if (!changed.length) return false;
    if (record !== false) {
      past.push(before);
      if (past.length > 200) past.shift();
      future = [];
    }
    selected = next;
    changed.forEach(function (q) { if (layers[q]) layers[q].setStyle(baseStyle(q)); });
    refresh();
    return true;
  }

  function note(text) { $('at-note').textContent = text || ''; }

  function addUnits(units, remove) {
    var next = selected.slice();
    var refused = [];
    units.forEach(function (p) {
      if (!remove && !next[p] && lockedBy(p).length) {
        refused.push(p);
        return;
      }
      next[p] = remove ? 0 : 1;
    });
    var list = [];
    for (var p = 0; p < n; p++) if (next[p]) list.push(p);
    apply(list);
    if (refused.length) {
      note(T.frPlural(refused.length, 'commune') + ' déjà dans une CPTS existante non ajoutée' + (refused.length > 1 ? 's' : '') +
        ' (' + refused.slice(0, 3).map(function (q) { return M.nom[q]; }).join(', ') + (refused.length > 3 ? '…' : '') +
        ') : cochez « Déverrouiller les CPTS existantes » pour les prendre.');
    } else note('');
  }

  function onUnitClick(e) {
    if (tool) return;
    var p = e.target._atUnit;
    addUnits([p], !!selected[p]);
  }

  // ---- verdict panel -----------------------------------------------------------------------------------
  var COLLATOR = new Intl.Collator('fr');
  // The report's words (cpts_geo.checks.report: STATUS_LABELS, RULE_LABELS).
  var RULE_TITLES = data.labels.rules;
  var STATUS_TEXT = data.labels.status;

  function refresh() {
    var P = current();
    report = P.length ? R.check(M, P, null) : null;
    var v = $('at-verdict');
    v.textContent = '';
    var h = document.createElement('h2');
    if (!report) {
      h.textContent = 'Résultat';
      v.appendChild(h);
      var p0 = document.createElement('p');
      p0.textContent = 'Cliquez des communes sur la carte, ou cherchez-les par leur nom, pour construire un territoire.';
      v.appendChild(p0);
    } else {
      h.innerHTML = 'Résultat : <span class="at-status ' + report.status + '">' + escapeHtml(STATUS_TEXT[report.status]) + '</span>';
      v.appendChild(h);
      var f = document.createElement('p');
      f.className = 'at-figures';
      var tr = report.territory;
      f.textContent = tr.population_known
        ? T.frPlural(tr.n_communes, 'commune') + ', ' + T.frInt(tr.population) + ' habitants (population municipale ' +
          data.vintage.population + '), taille ACI ' + tr.aci_size_class + '.'
        : T.frPlural(tr.n_communes, 'commune') + ', entre ' + T.frInt(tr.population_min) + ' et ' + T.frInt(tr.population_max) +
          ' habitants (population municipale ' + data.vintage.population + ', communes partagées), taille ACI ' +
          (tr.aci_size_class_min === tr.aci_size_class_max ? tr.aci_size_class_max : tr.aci_size_class_min + ' à ' + tr.aci_size_class_max) + '.';
      v.appendChild(f);
      report.rules.forEach(function (r) {
        var d = document.createElement('div');
        d.className = 'at-rule ' + r.status;
        var s = document.createElement('strong');
        s.textContent = RULE_TITLES[r.id] + ' — ' + STATUS_TEXT[r.status];
        d.appendChild(s);
        d.appendChild(document.createTextNode(r.message));
        v.appendChild(d);
      });
      if (Z) Z.panel(v, P);
    }
    drawLinks();
    var ul = $('at-list');
    ul.textContent = '';
    $('at-list-title').textContent = 'Sélection (' + T.frPlural(P.length, 'commune') + ')';
    P.slice().sort(function (a, b) { return COLLATOR.compare(M.nom[a], M.nom[b]); }).forEach(function (p) {
      var li = document.createElement('li');
      var nm = document.createElement('span');
      nm.className = 'at-name';
      nm.textContent = M.nom[p] + ' (' + M.code[p] + ')';
      var pp = document.createElement('span');
      pp.className = 'at-pop';
      pp.textContent = T.frInt(M.pop[p]) + ' hab.';
      var b = document.createElement('button');
      b.type = 'button';
      b.textContent = 'Retirer';
      b.setAttribute('aria-label', 'Retirer ' + M.nom[p]);
      b.addEventListener('click', function () { addUnits([p], true); });
      li.appendChild(nm);
      li.appendChild(pp);
      li.appendChild(b);
      ul.appendChild(li);
    });
    $('at-undo').disabled = !past.length;
    $('at-redo').disabled = !future.length;
    writeHash();
  }

  // ---- hash, files, exports -------------------------------------------------------------------------
  function state() {
    return '#s=' + current().map(function (p) { return M.code[p]; }).join(',');
  }
  function writeHash() {
    var h = state();
    if (location.hash === h) return;
    try { history.replaceState(null, '', h); } catch (e) { /* a sandboxed page: the hash stays */ }
  }
  function readHash() {
    var m = /^#s=(.*)$/.exec(location.hash || '');
    if (!m) return null;
    return decodeURIComponent(m[1]).split(',').filter(Boolean);
  }

  function unitsOf(codes) {
    var out = [];
    var unknown = [];
    codes.forEach(function (c) {
      var p = M.index[String(c).trim()];
      if (p === undefined) unknown.push(String(c));
      else out.push(p);
    });
    return { units: out, unknown: unknown };
  }

  function select(codes) {
    var r = unitsOf(codes || []);
    apply(r.units);
    if (r.unknown.length) note('Codes absents de la page : ' + r.unknown.slice(0, 10).join(', ') + (r.unknown.length > 10 ? '…' : ''));
    return r.unknown;
  }

  function csvCell(s) {
    s = String(s);
    return /[",\n\r;]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
  }
  function exportCsv() {
    return 'code_insee,nom\n' + current().map(function (p) { return M.code[p] + ',' + csvCell(M.nom[p]); }).join('\n') + (current().length ? '\n' : '');
  }
  function verdict() {
    var out = report ? JSON.parse(JSON.stringify(report)) : { status: null, territory: { communes: [], n_communes: 0, population: 0 }, rules: [] };
    if (Z) out.zones = Z.figures(current());
    out.atelier = { zone: data.area.departements, parametres: params, outil: 'cpts-geo ' + data.tool };
    return out;
  }
  function download(name, text, type) {
    var blob = new Blob([text], { type: type });
    var a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  }
  function save() {
    download('territoire.atelier.json', JSON.stringify({
      atelier: 1,
      zone: data.area.departements,
      communes: current().map(function (p) { return M.code[p]; })
    }, null, 1) + '\n', 'application/json');
  }
  function openText(text) {
    var codes;
    try {
      var obj = JSON.parse(text);
      codes = obj.communes || (obj.territory && obj.territory.communes) || [];
    } catch (e) {
      codes = text.split(/\r?\n/).map(function (line) { return line.split(/[,;\t]/)[0].replace(/^\ufeff/, '').replace(/"/g, '').trim(); })
        .filter(function (c) { return c && c !== 'code_insee'; });
    }
    var unknown = select(codes);
    if (!unknown.length) note('Fichier ouvert : ' + T.frPlural(codes.length, 'commune') + '.');
  }

  // ---- search -------------------------------------------------------------------------------------------
  var entries = [];
  for (i = 0; i < n; i++) entries.push({ kind: 'commune', key: fold(M.nom[i]), code: M.code[i], p: i });
  data.epci.nom.forEach(function (nm, e) { entries.push({ kind: 'EPCI', key: fold(nm), code: data.epci.code[e], e: e }); });
  data.deps.nom.forEach(function (nm, d) { entries.push({ kind: 'département', key: fold(nm), code: data.deps.code[d], d: d }); });
  data.cities.nom.forEach(function (nm, c) { entries.push({ kind: 'ville entière', key: fold(nm), code: data.cities.code[c], c: c }); });
  var homonyms = {};
  for (i = 0; i < n; i++) homonyms[fold(M.nom[i])] = (homonyms[fold(M.nom[i])] || 0) + 1;

  function membersOf(en) {
    if (en.c !== undefined) return data.cities.units[en.c].slice();
    var out = [];
    for (var p = 0; p < n; p++) {
      if ((en.e !== undefined && M.epci[p] === en.e) || (en.d !== undefined && M.dep[p] === en.d)) out.push(p);
    }
    return out;
  }

  function label(en) {
    if (en.kind === 'commune') {
      var p = en.p;
      return M.nom[p] + (homonyms[fold(M.nom[p])] > 1 ? ' (' + data.deps.nom[M.dep[p]] + ', ' + depOf(p) + ')' : ' (' + depOf(p) + ')') + ' — ' + T.frInt(M.pop[p]) + ' hab.';
    }
    if (en.kind === 'EPCI') {
      var k = membersOf(en).length;
      var all = data.epci.n[en.e];
      return data.epci.nom[en.e] + ' — ' + T.frPlural(all, 'commune') + (k < all ? ' (' + T.frInt(k) + ' sur la page)' : '');
    }
    if (en.kind === 'ville entière') return data.cities.nom[en.c] + ' (' + en.code + ') — ' + T.frPlural(data.cities.units[en.c].length, 'arrondissement');
    return data.deps.nom[en.d] + ' (' + data.deps.code[en.d] + ')';
  }

  var results = [];
  var active = -1;
  function search(q) {
    var f = fold(q);
    var box = $('at-results');
    box.textContent = '';
    results = [];
    active = -1;
    if (!f) { box.hidden = true; return; }
    var starts = [];
    var inside = [];
    entries.forEach(function (en) {
      if (en.code === q.trim()) starts.unshift(en);
      else if (en.key.indexOf(f) === 0) starts.push(en);
      else if (en.key.indexOf(' ' + f) >= 0 || (f.length > 2 && en.key.indexOf(f) > 0)) inside.push(en);
    });
    results = starts.concat(inside).slice(0, 30);
    results.forEach(function (en, k) {
      var li = document.createElement('li');
      li.setAttribute('role', 'option');
      li.id = 'at-r' + k;
      var kind = document.createElement('span');
      kind.className = 'at-kind';
      kind.textContent = en.kind;
      var nm = document.createElement('span');
      nm.className = 'at-name';
      nm.textContent = label(en);
      li.appendChild(kind);
      li.appendChild(nm);
      var add = document.createElement('button');
      add.type = 'button';
      add.textContent = 'Ajouter';
      add.addEventListener('click', function (ev) { ev.stopPropagation(); pick(en, false); });
      var rem = document.createElement('button');
      rem.type = 'button';
      rem.textContent = 'Retirer';
      rem.addEventListener('click', function (ev) { ev.stopPropagation(); pick(en, true); });
      li.appendChild(add);
      li.appendChild(rem);
      li.addEventListener('click', function () { pick(en, en.kind === 'commune' && !!selected[en.p]); });
      box.appendChild(li);
    });
    box.hidden = !results.length;
  }

  function pick(en, remove) {
    var units = en.kind === 'commune' ? [en.p] : membersOf(en);
    addUnits(units, remove);
    var b = L.latLngBounds([]);
    units.forEach(function (p) { if (layers[p]) b.extend(layers[p].getBounds()); });
    if (b.isValid()) map.fitBounds(b, { maxZoom: 11 });
    $('at-results').hidden = true;
  }

  $('at-q').addEventListener('input', function () { search(this.value); });
  $('at-q').addEventListener('keydown', function (e) {
    var box = $('at-results');
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      if (!results.length) return;
      active = (active + (e.key === 'ArrowDown' ? 1 : results.length - 1)) % results.length;
      Array.prototype.forEach.call(box.children, function (li, k) { li.setAttribute('aria-selected', k === active ? 'true' : 'false'); });
    } else if (e.key === 'Enter') {
      var en = results[active >= 0 ? active : 0];
      if (en) pick(en, e.shiftKey);
    } else if (e.key === 'Escape') {
      box.hidden = true;
    }
  });

  // ---- paste a list ---------------------------------------------------------------------------------------
  var byName = {};
  for (i = 0; i < n; i++) (byName[fold(M.nom[i])] = byName[fold(M.nom[i])] || []).push(i);
  var cityOf = {};
  data.cities.code.forEach(function (c, k) { cityOf[c] = k; cityOf[fold(data.cities.nom[k])] = k; });
  function pasted(text, replace) {
    var units = [];
    var problems = [];
    text.split(/[\n\r;,\t]+/).map(function (s) { return s.trim(); }).filter(Boolean).forEach(function (v) {
      var code = v.replace(/^"|"$/g, '');
      if (/^\d[\dAB]\d{3}$/i.test(code) || /^\d{4}$/.test(code)) {
        var c = code.length === 4 ? '0' + code : code.toUpperCase();
        if (M.index[c] !== undefined) units.push(M.index[c]);
        else if (cityOf[c] !== undefined) units = units.concat(data.cities.units[cityOf[c]]);
        else problems.push(v + ' (code absent de la page)');
        return;
      }
      var hits = byName[fold(code)] || [];
      if (!hits.length && cityOf[fold(code)] !== undefined) units = units.concat(data.cities.units[cityOf[fold(code)]]);
      else if (hits.length === 1) units.push(hits[0]);
      else if (hits.length > 1) problems.push(v + ' (homonymes : ' + hits.map(function (p) { return M.code[p]; }).join(', ') + ')');
      else if (fold(code) !== 'code insee' && fold(code) !== 'nom') problems.push(v + ' (nom inconnu sur la page)');
    });
    var base = replace ? [] : current();
    apply(base.concat(units));
    note(problems.length ? 'Non repris : ' + problems.slice(0, 8).join(' ; ') + (problems.length > 8 ? '…' : '') : T.frPlural(units.length, 'commune') + ' reprise' + (units.length > 1 ? 's' : '') + '.');
  }
  $('at-paste').addEventListener('click', function () { $('at-paste-dialog').showModal(); $('at-paste-text').focus(); });
  $('at-paste-dialog').addEventListener('close', function () {
    var v = this.returnValue;
    if (v === 'replace' || v === 'add') pasted($('at-paste-text').value, v === 'replace');
  });

  // ---- rectangle and lasso ------------------------------------------------------------------------------
  var tool = null;
  var drawing = null;
  function setTool(name) {
    tool = tool === name ? null : name;
    $('at-rect').setAttribute('aria-pressed', tool === 'rect' ? 'true' : 'false');
    $('at-lasso').setAttribute('aria-pressed', tool === 'lasso' ? 'true' : 'false');
    $('at-map').classList.toggle('at-drawing', !!tool);
    if (tool) map.dragging.disable();
    else map.dragging.enable();
    note(tool ? 'Tracez sur la carte : les communes dont le centre est dans la forme sont ajoutées (Maj : retirées). Échap pour quitter.' : '');
  }
  function inside(pt, poly) {
    var c = false;
    for (var a = 0, b = poly.length - 1; a < poly.length; b = a++) {
      if ((poly[a][1] > pt[1]) !== (poly[b][1] > pt[1]) && pt[0] < ((poly[b][0] - poly[a][0]) * (pt[1] - poly[a][1])) / (poly[b][1] - poly[a][1]) + poly[a][0]) c = !c;
    }
    return c;
  }
  function selectShape(poly, remove) {
    var units = [];
    for (var p = 0; p < n; p++) {
      if (data.units.lon[p] !== null && inside([data.units.lon[p], data.units.lat[p]], poly)) units.push(p);
    }
    addUnits(units, remove);
  }
  map.on('mousedown', function (e) {
    if (!tool) return;
    drawing = { start: e.latlng, pts: [e.latlng], remove: e.originalEvent.shiftKey, shape: null };
  });
  map.on('mousemove', function (e) {
    if (!drawing) return;
    if (drawing.shape) map.removeLayer(drawing.shape);
    if (tool === 'rect') drawing.shape = L.rectangle(L.latLngBounds(drawing.start, e.latlng), { color: '#b8860b', weight: 2, fill: false, interactive: false }).addTo(map);
    else {
      drawing.pts.push(e.latlng);
      drawing.shape = L.polygon(drawing.pts, { color: '#b8860b', weight: 2, fill: false, interactive: false }).addTo(map);
    }
  });
  map.on('mouseup', function (e) {
    if (!drawing) return;
    if (drawing.shape) map.removeLayer(drawing.shape);
    var poly;
    if (tool === 'rect') {
      var b = L.latLngBounds(drawing.start, e.latlng);
      poly = [[b.getWest(), b.getSouth()], [b.getEast(), b.getSouth()], [b.getEast(), b.getNorth()], [b.getWest(), b.getNorth()]];
    } else poly = drawing.pts.map(function (ll) { return [ll.lng, ll.lat]; });
    var remove = drawing.remove;
    drawing = null;
    if (poly.length >= 3) selectShape(poly, remove);
  });

  // ---- buttons and keyboard ------------------------------------------------------------------------------------
  function undo() {
    if (!past.length) return false;
    future.push(current());
    apply(past.pop(), false);
    return true;
  }
  function redo() {
    if (!future.length) return false;
    past.push(current());
    apply(future.pop(), false);
    return true;
  }
  function clear() { apply([]); }
  $('at-undo').addEventListener('click', undo);
  $('at-redo').addEventListener('click', redo);
  $('at-clear').addEventListener('click', clear);
  $('at-rect').addEventListener('click', function () { setTool('rect'); });
  $('at-lasso').addEventListener('click', function () { setTool('lasso'); });
  $('at-save').addEventListener('click', save);
  $('at-open').addEventListener('click', function () { $('at-file').click(); });
  $('at-file').addEventListener('change', function () {
    var f = this.files && this.files[0];
    if (!f) return;
    var rd = new FileReader();
    rd.onload = function () { openText(String(rd.result)); };
    rd.readAsText(f, 'utf-8');
    this.value = '';
  });
  $('at-csv').addEventListener('click', function () { download('territoire.csv', '\ufeff' + exportCsv(), 'text/csv;charset=utf-8'); });
  $('at-json').addEventListener('click', function () { download('verdict.json', JSON.stringify(verdict(), null, 2) + '\n', 'application/json'); });
  $('at-print').addEventListener('click', function () { window.print(); });
  $('at-unlock').addEventListener('change', function () { unlocked = this.checked; });
  // Printing: the map fitted to the territory (else the area) on the A4 frame.
  var screenView = null;
  function fitForPrint() {
    if (!screenView) screenView = { center: map.getCenter(), zoom: map.getZoom() };
    map.invalidateSize({ animate: false });
    var b = L.latLngBounds([]);
    current().forEach(function (p) { if (layers[p]) b.extend(layers[p].getBounds()); });
    if (!b.isValid()) b = areaBounds;
    if (b.isValid()) map.fitBounds(b, { animate: false, padding: [10, 10] });
    if (renderer._redraw) renderer._redraw();
  }
  window.addEventListener('beforeprint', fitForPrint);
  window.addEventListener('afterprint', function () {
    map.invalidateSize({ animate: false });
    if (screenView) map.setView(screenView.center, screenView.zoom, { animate: false });
    screenView = null;
  });
  if (window.matchMedia) {
    var printing = window.matchMedia('print');
    if (printing.addEventListener) printing.addEventListener('change', function (e) { if (e.matches) fitForPrint(); });
  }
  document.addEventListener('keydown', function (e) {
    var typing = /^(INPUT|TEXTAREA|SELECT)$/.test((e.target && e.target.tagName) || '');
    var mod = e.ctrlKey || e.metaKey;
    if (mod && e.key.toLowerCase() === 'z' && !typing) { e.preventDefault(); if (e.shiftKey) redo(); else undo(); }
    else if (mod && e.key.toLowerCase() === 'y' && !typing) { e.preventDefault(); redo(); }
    else if (mod && e.key.toLowerCase() === 's') { e.preventDefault(); save(); }
    else if (mod && e.key.toLowerCase() === 'o') { e.preventDefault(); $('at-file').click(); }
    else if (typing || mod || e.altKey) return;
    else if (e.key === '/') { e.preventDefault(); $('at-q').focus(); }
    else if (e.key === 'r' || e.key === 'R') setTool('rect');
    else if (e.key === 'l' || e.key === 'L') setTool('lasso');
    else if (e.key === 'v' || e.key === 'V') $('at-paste').click();
    else if (e.key === 'Escape' && tool) setTool(tool);
  });
  window.addEventListener('hashchange', function () {
    var codes = readHash();
    if (codes && state() !== location.hash) select(codes);
  });

  $('at-foot').textContent = 'COG ' + data.vintage.cog + ', populations municipales ' + data.vintage.population +
    (params.min_population ? ' ; population minimale ' + T.frInt(params.min_population) : ' ; sans population minimale') +
    ' ; liaisons par la mer et traversées par l’eau jusqu’à ' + T.frKm(params.sea_link_km) + '\u00a0km' +
    (reg ? ' ; registre de ' + T.frPlural(reg.ids.length, 'CPTS', 'CPTS') : ' ; sans registre') +
    (params.cpts_id ? ' ; modification de la CPTS ' + params.cpts_id : '') + '. Généré par cpts-geo ' + data.tool + '.';

  // ---- start ---------------------------------------------------------------------------------------------------
  var first = readHash();
  if (first) select(first);
  else apply(data.selection, false);
  refresh();

  window.atelier = {
    ready: true,
    readyMs: performance.now(),
    select: function (codes) { return select(codes); },
    toggle: function (code) {
      var p = M.index[String(code)];
      if (p === undefined) return false;
      var next = current().filter(function (q) { return q !== p; });
      if (!selected[p]) next.push(p);
      apply(next);
      return !!selected[p];
    },
    clear: clear,
    undo: undo,
    redo: redo,
    checks: function () { return verdict(); },
    state: state,
    exportCsv: exportCsv,
    links: function () { return drawn.slice(); },
    zoneLines: function () { return Z ? Z.lines(Z.figures(current())) : []; }
  };
})();
