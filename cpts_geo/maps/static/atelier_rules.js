/* cpts-geo atelier: the six rules of cpts_geo.checks.rules, in the page.
 *
 * A mirror of the Python rules (check_territory): same statuses, same figures, same French
 * messages. tests/maps/test_atelier.py compares the two on seeded random territories in headless
 * Chromium; change both together.
 *
 * Data (built by cpts_geo.maps.atelier_data.atelier_payload): units 0..n-1 in the reference's
 * order (units.pos: their position in the reference), outer nodes n..n+m-1 (pieces of land
 * beyond the page, with their unit count, population and first position: pieces of the land
 * graph and the water crossings), the land graph as adjacency lists over both (a unit's outer
 * nodes: those it touches by land or across water), precomputed links [i, j, kind, km, lon_i,
 * lat_i, lon_j, lat_j] (kind "mer": sea links between land masses; "eau": water crossings
 * within one), EPCI, départements, régions, the register (rows [cpts, unit]), the rules'
 * parameters.
 *
 * AtelierRules.model(data) -> model; AtelierRules.check(model, units) -> the report as
 * `cpts-geo check --format json` gives it (status, territory, rules[id, status, message,
 * details]).
 */
(function (root) {
  'use strict';

  var NBSP = '\u00a0';
  var LIST_MAX = 3;

  // ---- French text, as cpts_geo._text -------------------------------------------------------
  function group3(digits) {
    var out = '';
    var n = digits.length;
    for (var i = 0; i < n; i++) {
      if (i > 0 && (n - i) % 3 === 0) out += NBSP;
      out += digits.charAt(i);
    }
    return out;
  }

  // x with d decimals, correctly rounded, ties to even (Python's format and round()).
  function fixed(x, d) {
    var neg = x < 0;
    var ax = Math.abs(x);
    var s = ax.toFixed(d); // exact, but ties go up
    var full = ax.toFixed(100);
    var dot = full.indexOf('.');
    var tail = full.slice(dot + 1 + d);
    if (/^50*$/.test(tail)) {
      var down = d ? full.slice(0, dot + 1 + d) : full.slice(0, dot);
      var last = down.charCodeAt(down.length - 1) - 48;
      if (last % 2 === 0) s = down;
    }
    return neg ? '-' + s : s;
  }

  function pyRound(x, d) {
    return parseFloat(fixed(x, d));
  }

  function frDecimal(x, d) {
    var s = fixed(x, d === undefined ? 1 : d);
    var neg = s.charAt(0) === '-';
    if (neg) s = s.slice(1);
    var parts = s.split('.');
    var out = group3(parts[0]) + (parts.length > 1 ? ',' + parts[1] : '');
    return (neg ? '-' : '') + out;
  }

  function frInt(v) {
    var s = fixed(v, 0);
    var neg = s.charAt(0) === '-';
    if (neg) s = s.slice(1);
    return (neg ? '-' : '') + group3(s);
  }

  function frKm(v) {
    var t = frDecimal(v, 1);
    return t.slice(-2) === ',0' ? t.slice(0, -2) : t;
  }

  function frShare(s, d) {
    return frDecimal(100 * s, d === undefined ? 1 : d) + NBSP + '%';
  }

  function isUpper(w) {
    return w.toUpperCase() === w && w.toLowerCase() !== w;
  }

  function pluralOf(word) {
    var small = { de: 1, du: 1, des: 1, 'à': 1, en: 1, la: 1, le: 1 };
    return word
      .split(' ')
      .map(function (w) {
        if (!w || isUpper(w) || 'sxz'.indexOf(w.charAt(w.length - 1)) >= 0 || small[w]) return w;
        return w + 's';
      })
      .join(' ');
  }

  function frPlural(n, singular, plural) {
    var word = Math.abs(n) < 2 ? singular : plural || pluralOf(singular);
    return frInt(n) + ' ' + word;
  }

  function others(n) {
    return frInt(n) + ' autre' + (n > 1 ? 's' : '');
  }

  function listing(items, limit, total) {
    if (limit === undefined || limit === null) limit = LIST_MAX;
    if (total === undefined || total === null) total = items.length;
    if (total > limit) return items.slice(0, limit).join(', ') + ' et ' + others(total - limit);
    if (items.length > 1) return items.slice(0, -1).join(', ') + ' et ' + items[items.length - 1];
    return items.length ? items[0] : '';
  }

  function sentence(t) {
    return t.slice(-1) === '.' ? t : t + '.';
  }

  function cmpStr(a, b) {
    return a < b ? -1 : a > b ? 1 : 0;
  }

  // ---- the model ---------------------------------------------------------------------------
  function model(data) {
    var u = data.units;
    var n = u.code.length;
    var m = data.outer.n.length;
    var links = [];
    for (var i = 0; i < n; i++) links.push([]);
    data.links.forEach(function (lk) {
      links[lk[0]].push([lk[1], lk[3], lk[2]]);
      links[lk[1]].push([lk[0], lk[3], lk[2]]);
    });
    var index = {};
    for (i = 0; i < n; i++) index[u.code[i]] = i;
    var reg = data.register;
    var regCpts = [];
    if (reg) {
      for (i = 0; i < n; i++) regCpts.push([]);
      reg.rows.forEach(function (r) {
        regCpts[r[1]].push(r[0]);
      });
    }
    // Outer nodes' neighbours: the page units touching them.
    var adj = u.adj.slice();
    for (i = 0; i < m; i++) adj.push([]);
    for (var p = 0; p < n; p++) {
      u.adj[p].forEach(function (v) {
        if (v >= n) adj[v].push(p);
      });
    }
    // The enclave rule's graph: the land graph and the water crossings.
    var near = adj.map(function (nb) { return nb.slice(); });
    data.links.forEach(function (lk) {
      if (lk[2] !== 'eau') return;
      near[lk[0]].push(lk[1]);
      near[lk[1]].push(lk[0]);
    });
    var shared = new Uint8Array(n);
    if (reg) reg.shared.forEach(function (p) { shared[p] = 1; });
    return {
      data: data,
      n: n,
      m: m,
      code: u.code,
      nom: u.nom,
      pop: u.pop,
      pos: u.pos,
      dep: u.dep,
      epci: u.epci,
      land: u.land.concat(data.outer.land),
      zone: u.zone,
      isl: u.isl,
      adj: adj,
      near: near,
      links: links,
      index: index,
      regCpts: regCpts,
      shared: shared,
      params: data.params
    };
  }

  function unitRecord(M, p, withPop) {
    var r = { code: M.code[p], nom: M.nom[p] };
    if (withPop) r.population = M.pop[p];
    return r;
  }

  // ---- population ----------------------------------------------------------------------------
  var ACI_SIZE_BOUNDS = [40000, 80000, 175000];

  function aciSizeClass(p) {
    if (p < ACI_SIZE_BOUNDS[0]) return 1;
    if (p < ACI_SIZE_BOUNDS[1]) return 2;
    if (p <= ACI_SIZE_BOUNDS[2]) return 3;
    return 4;
  }

  function sizeClassText(lo, hi) {
    return hi === undefined || hi === lo ? String(lo) : lo + ' à ' + hi;
  }

  // The units of the territory the CPTS re-checked (params.cpts_id) declares shared with other
  // CPTS (commune_partagee): their inhabitants belong to it only in part.
  function ownShared(M, P) {
    var reg = M.data.register;
    var selfId = M.params.cpts_id;
    if (!reg || selfId === null || selfId === undefined) return [];
    return P.filter(function (p) {
      return M.shared[p] && M.regCpts[p].some(function (c) { return reg.ids[c] === String(selfId); });
    });
  }

  function population(M, P, pop) {
    var minPop = M.params.min_population;
    var sh = ownShared(M, P);
    var high = pop;
    var low = pop;
    sh.forEach(function (p) { low -= M.pop[p]; });
    var sizeLo = aciSizeClass(low);
    var sizeHi = aciSizeClass(high);
    var year = M.data.vintage.population;
    var details = {
      population: high,
      min_population: minPop || null,
      aci_size_class: sizeHi,
      aci_size_bounds: ACI_SIZE_BOUNDS.slice(),
      vintage: year,
      population_min: low,
      population_max: high,
      aci_size_class_min: sizeLo,
      aci_size_class_max: sizeHi,
      population_known: !sh.length,
      shared_units: sh.map(function (p) { return unitRecord(M, p, true); })
    };
    var size = sizeClassText(sizeLo, sizeHi);
    var head;
    if (!sh.length) head = frInt(high) + ' habitants (population municipale ' + year + '), taille ACI ' + size;
    else {
      var named = listing(details.shared_units.map(function (u) { return u.nom + ' (' + u.code + ', ' + frInt(u.population) + ' hab.)'; }));
      head = 'Population inconnue : entre ' + frInt(low) + ' et ' + frInt(high) + ' habitants (population municipale ' + year +
        '), sans puis avec ' + named + ', ' + (sh.length === 1 ? 'déclarée partagée' : 'déclarées partagées') +
        " avec d'autres CPTS sans découpage plus fin (IRIS, secteurs) ; taille ACI " + size;
    }
    if (!minPop) return rule('population', 'pass', head + ' ; pas de population minimale demandée.', details);
    if (high < minPop) {
      return rule(
        'population',
        'fail',
        head + ' : sous le minimum de ' + frInt(minPop) + ' habitants ' +
          (!sh.length
            ? '(il manque ' + frInt(minPop - high) + ' habitants).'
            : 'même avec les communes partagées entières (il manque ' + frInt(minPop - high) + ' habitants).'),
        details
      );
    }
    if (low < minPop) {
      return rule('population', 'warn', head + ' : le minimum de ' + frInt(minPop) + " habitants n'est atteint qu'avec au moins " +
        frInt(minPop - low) + ' habitants des communes partagées.', details);
    }
    return rule('population', 'pass', head + ' ; minimum de ' + frInt(minPop) + ' atteint' + (sh.length ? ' même sans les communes partagées.' : '.'), details);
  }

  function rule(id, status, message, details) {
    return { id: id, status: status, message: message, details: details };
  }

  // ---- contiguity --------------------------------------------------------------------------
  function components(M, P, inside) {
    // Parts of the territory on the land graph: lists of units, each sorted.
    var label = {};
    var groups = [];
    for (var k = 0; k < P.length; k++) {
      var s = P[k];
      if (label[s] !== undefined) continue;
      var g = [s];
      label[s] = groups.length;
      for (var h = 0; h < g.length; h++) {
        var nb = M.adj[g[h]];
        for (var t = 0; t < nb.length; t++) {
          var v = nb[t];
          if (v < M.n && inside[v] && label[v] === undefined) {
            label[v] = groups.length;
            g.push(v);
          }
        }
      }
      g.sort(function (a, b) { return a - b; });
      groups.push(g);
    }
    return { groups: groups, label: label };
  }

  function contiguity(M, P, inside) {
    var seaKm = M.params.sea_link_km;
    var c = components(M, P, inside);
    var k = c.groups.length;
    var details = { n_components: k, components: [], sea_links: [], water_crossings: [], land_gaps: [], sea_link_km: seaKm };
    if (k <= 1) {
      return rule('contiguity', 'pass', "Territoire d'un seul tenant (" + frPlural(P.length, 'commune') + ').', details);
    }
    var parts = c.groups.map(function (g) {
      var pop = 0;
      var top = g[0];
      for (var i = 0; i < g.length; i++) {
        pop += M.pop[g[i]];
        if (M.pop[g[i]] > M.pop[top]) top = g[i];
      }
      return { units: g, pop: pop, first: g[0], top: top };
    });
    parts.sort(function (a, b) { return b.pop - a.pop || a.first - b.first; });
    var partOf = {};
    parts.forEach(function (pt, i) {
      pt.units.forEach(function (p) { partOf[p] = i; });
    });
    var lands = parts.map(function (pt) { return M.land[pt.first]; });
    var comps = parts.map(function (pt, i) {
      return {
        id: i + 1,
        name: M.nom[pt.top],
        n_communes: pt.units.length,
        population: pt.pop,
        island: !!M.isl[pt.first],
        communes: pt.units.map(function (p) { return unitRecord(M, p, false); })
      };
    });
    details.components = comps;

    var byLand = [];
    var landAt = {};
    lands.forEach(function (l, i) {
      if (landAt[l] === undefined) {
        landAt[l] = byLand.length;
        byLand.push([]);
      }
      byLand[landAt[l]].push(i + 1);
    });

    // Shortest pair of units between two parts, over the precomputed links: sea links between
    // land masses (the pair closest by its unit of the lower part), water crossings within one
    // (the pair with the lower unit codes).
    var bestSea = {};
    var bestWater = {};
    P.forEach(function (p) {
      var i = partOf[p];
      M.links[p].forEach(function (lk) {
        var q = lk[0];
        if (!inside[q]) return;
        var j = partOf[q];
        if (j <= i) return; // each pair of parts once, from the lower part (p in part i)
        var key = i * k + j;
        var d = lk[1];
        var b;
        if (lk[2] === 'eau') {
          b = bestWater[key];
          var lo = Math.min(p, q);
          var hi = Math.max(p, q);
          var byCode = b && d === b[0] ? cmpStr(M.code[lo], M.code[b[5]]) || cmpStr(M.code[hi], M.code[b[6]]) : 0;
          if (!b || d < b[0] || byCode < 0) bestWater[key] = [d, i, j, p, q, lo, hi];
          return;
        }
        if (lands[i] === lands[j] || M.zone[parts[i].first] !== M.zone[parts[j].first]) return;
        b = bestSea[key];
        if (!b || d < b[0] || (d === b[0] && (p < b[3] || (p === b[3] && q < b[4])))) bestSea[key] = [d, i, j, p, q];
      });
    });
    function ranked(best) {
      var out = [];
      Object.keys(best).forEach(function (key) {
        var b = best[key];
        if (b[0] <= seaKm) out.push([pyRound(b[0], 3), b[1], b[2], b[3], b[4]]);
      });
      out.sort(function (x, y) { return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; });
      return out;
    }
    // Kruskal (a minimum spanning forest, as scipy's in the Python rule): groups of parts joined
    // first, then the shortest links.
    function forest(together, candidates) {
      var parent = [];
      for (var i = 0; i < k; i++) parent.push(i);
      function find(x) {
        while (parent[x] !== x) {
          parent[x] = parent[parent[x]];
          x = parent[x];
        }
        return x;
      }
      function union(x, y) {
        var rx = find(x);
        var ry = find(y);
        if (rx === ry) return false;
        parent[Math.max(rx, ry)] = Math.min(rx, ry);
        return true;
      }
      together.forEach(function (ids) {
        ids.slice(1).forEach(function (cid) { union(ids[0] - 1, cid - 1); });
      });
      var kept = candidates.filter(function (cd) { return union(cd[1], cd[2]); });
      return { kept: kept, find: find };
    }
    function rows(kept) {
      return kept.map(function (cd) {
        var x = Math.min(cd[3], cd[4]);
        var y = Math.max(cd[3], cd[4]);
        return {
          a: M.code[x],
          a_nom: M.nom[x],
          b: M.code[y],
          b_nom: M.nom[y],
          distance_km: cd[0],
          parts: [cd[1] + 1, cd[2] + 1]
        };
      });
    }
    // Water crossings join the parts of one land mass; parts of one land mass left apart are
    // separated by land. Then sea links join the land masses (each one node).
    var across = forest([], ranked(bestWater));
    var gaps = byLand.filter(function (ids) {
      return ids.some(function (cid) { return across.find(cid - 1) !== across.find(ids[0] - 1); });
    });
    details.land_gaps = gaps;
    details.water_crossings = rows(across.kept);
    var bySea = forest(byLand, ranked(bestSea));
    var find = bySea.find;
    var links = rows(bySea.kept);
    details.sea_links = links;
    var main = find(0);
    var far = [];
    var i;
    for (i = 0; i < k; i++) if (find(i) !== main) far.push(i);

    function named(ids) {
      var shown = ids.slice(0, 4).map(function (i) {
        var cp = comps[i];
        return cp.name + ' (' + (cp.island ? 'île, ' : '') + frPlural(cp.n_communes, 'commune') + ')';
      });
      return listing(shown, 4, ids.length);
    }

    var sentences = [];
    if (gaps.length) {
      var flat = [];
      gaps.forEach(function (ids) { ids.forEach(function (cid) { flat.push(cid - 1); }); });
      sentences.push(named(flat) + ' sont séparées par des communes hors du territoire');
    }
    if (links.length) {
      sentences.push(
        'reliées par la mer (liaisons de ' + frKm(seaKm) + NBSP + 'km au plus) : ' +
          links.map(function (lk) { return lk.a_nom + ' – ' + lk.b_nom + ' (' + frKm(lk.distance_km) + NBSP + 'km)'; }).join(', ')
      );
    }
    var crossings = details.water_crossings;
    if (crossings.length) {
      sentences.push(
        "reliées par l'eau (" + frKm(seaKm) + NBSP + 'km au plus, sans terre hors du territoire) : ' +
          crossings.map(function (lk) {
            return "traversée par l'eau " + lk.a_nom + ' – ' + lk.b_nom + ' (' + frKm(lk.distance_km) + NBSP + 'km)';
          }).join(', ')
      );
    }
    if (far.length) sentences.push(named(far) + ' à plus de ' + frKm(seaKm) + NBSP + 'km par la mer du reste du territoire');
    var status = gaps.length || far.length ? 'fail' : 'warn';
    var msg;
    if (status === 'fail') msg = 'Territoire discontinu en ' + frInt(k) + ' parties : ' + sentences.join(' ; ') + '.';
    else {
      var all = [];
      for (i = 0; i < k; i++) all.push(i);
      msg = 'Territoire en ' + frInt(k) + ' parties ' + sentences.join(' ; ') + ' ; parties : ' + named(all) + '.';
    }
    return rule('contiguity', status, msg, details);
  }

  // ---- enclaves ------------------------------------------------------------------------------
  function enclaves(M, P, inside) {
    var n = M.n;
    var outer = M.data.outer;
    var piece = {};
    var pieces = [];
    function sizeOf(v) { return v < n ? 1 : outer.n[v - n]; }
    function popOf(v) { return v < n ? M.pop[v] : outer.pop[v - n]; }
    function firstOf(v) { return v < n ? M.pos[v] : outer.first[v - n]; }
    // The pieces of the outside touching the territory (on a land mass, every piece does), on
    // the land graph and the water crossings (units facing each other across water are
    // neighbours), as the Python rule walks Reference.arrays_with_water.
    P.forEach(function (p) {
      M.near[p].forEach(function (s) {
        if ((s < n && inside[s]) || piece[s] !== undefined) return;
        var nodes = [s];
        piece[s] = pieces.length;
        for (var h = 0; h < nodes.length; h++) {
          var nb = M.near[nodes[h]];
          for (var t = 0; t < nb.length; t++) {
            var v = nb[t];
            if ((v < n && inside[v]) || piece[v] !== undefined) continue;
            piece[v] = pieces.length;
            nodes.push(v);
          }
        }
        pieces.push({ nodes: nodes });
      });
    });
    pieces.forEach(function (pc) {
      var size = 0;
      var pop = 0;
      var first = Infinity;
      pc.nodes.forEach(function (v) {
        size += sizeOf(v);
        pop += popOf(v);
        first = Math.min(first, firstOf(v));
      });
      pc.size = size;
      pc.pop = pop;
      pc.first = first;
      pc.land = M.land[pc.nodes[0]];
    });
    var rest = {};
    pieces.forEach(function (pc, i) {
      var r = rest[pc.land];
      var b = r === undefined ? null : pieces[r];
      if (!b || pc.size > b.size || (pc.size === b.size && (pc.pop > b.pop || (pc.pop === b.pop && pc.first < b.first)))) rest[pc.land] = i;
    });
    var found = [];
    pieces.forEach(function (pc, i) {
      if (rest[pc.land] === i) return;
      var members = [];
      pc.nodes.forEach(function (v) {
        if (v < n) members.push([M.pos[v], M.code[v], M.nom[v], M.pop[v]]);
        else {
          var list = outer.units[v - n];
          if (list) list.forEach(function (r, j) { members.push([outer.first[v - n] + j * 1e-9, r[0], r[1], r[2]]); });
        }
      });
      members.sort(function (a, b) { return a[0] - b[0] || cmpStr(a[1], b[1]); });
      found.push({ first: pc.first, size: pc.size, pop: pc.pop, members: members });
    });
    found.sort(function (a, b) { return a.first - b.first; });
    var groups = found.map(function (g) {
      return {
        communes: g.members.map(function (r) { return { code: r[1], nom: r[2], population: r[3] }; }),
        n_communes: g.size,
        population: g.pop
      };
    });
    var details = { groups: groups };
    if (!groups.length) return rule('enclaves', 'pass', 'Aucune commune extérieure enclavée par le territoire.', details);
    var described = groups.map(function (g) {
      var names = listing(g.communes.map(function (c) { return c.nom + ' (' + c.code + ')'; }));
      var size = g.n_communes === 1 ? '' : frPlural(g.n_communes, 'commune') + ', ';
      return names + ' (' + size + frInt(g.population) + ' hab.)';
    });
    var msg;
    if (groups.length === 1 && groups[0].n_communes === 1) {
      var c = groups[0].communes[0];
      msg = c.nom + ' (' + c.code + ', ' + frInt(c.population) + ' hab.) est enclavée par le territoire : tous ses voisins terrestres en font partie.';
    } else {
      var what = groups.length > 1 ? frInt(groups.length) + ' groupes de communes sont enclavés' : '1 groupe de communes est enclavé';
      msg = what + ' par le territoire (tous leurs voisins terrestres en font partie) : ' + described.join(' ; ') + '.';
    }
    return rule('enclaves', 'warn', msg, details);
  }

  // ---- epci_alignment ------------------------------------------------------------------------
  function epciAlignment(M, P) {
    var E = M.data.epci;
    var by = {};
    var ids = [];
    var without = [];
    P.forEach(function (p) {
      var e = M.epci[p];
      if (e < 0) {
        without.push(unitRecord(M, p, false));
        return;
      }
      if (!by[e]) {
        by[e] = { n: 0, pop: 0, units: [] };
        ids.push(e);
      }
      by[e].n += 1;
      by[e].pop += M.pop[p];
      by[e].units.push(M.code[p]);
    });
    ids.sort(function (a, b) { return by[b].pop - by[a].pop || cmpStr(E.code[a], E.code[b]); });
    var rows = ids.map(function (e) {
      var b = by[e];
      var nTot = E.n[e];
      var pTot = E.pop[e];
      return {
        code: E.code[e],
        nom: E.nom[e],
        n_communes_in: b.n,
        n_communes: nTot,
        population_in: b.pop,
        population: pTot,
        share_communes: pyRound(b.n / nTot, 4),
        share_population: pTot ? pyRound(b.pop / pTot, 4) : 0.0,
        whole: b.n === nTot,
        communes: b.units
      };
    });
    var split = rows.filter(function (r) { return !r.whole; });
    var details = { epcis: rows, n_split: split.length, without_epci: without };
    var tail = '';
    if (without.length) {
      tail = ' Commune' + (without.length > 1 ? 's' : '') + ' sans EPCI : ' +
        listing(without.map(function (u) { return u.nom + ' (' + u.code + ')'; }), 5) + '.';
    }
    var msg;
    if (!split.length) {
      if (rows.length) {
        var first = rows.slice(0, LIST_MAX).map(function (r) { return r.nom; });
        msg = 'Territoire fait ' + (rows.length === 1 ? 'du seul EPCI entier' : 'de ' + frInt(rows.length) + ' EPCI entiers') +
          ' : ' + listing(first, undefined, rows.length) + '.' + tail;
      } else msg = "Aucune commune du territoire n'appartient à un EPCI." + tail;
      return rule('epci_alignment', 'pass', msg, details);
    }
    var described = split.slice(0, LIST_MAX).map(function (r) {
      return r.nom + ' (' + frInt(r.n_communes_in) + '/' + frPlural(r.n_communes, 'commune') + ', ' +
        frShare(r.share_population) + ' de la population)';
    });
    msg = frInt(split.length) + ' EPCI coupé' + (split.length > 1 ? 's' : '') + ' sur ' + frInt(rows.length) + ' touché' +
      (rows.length > 1 ? 's' : '') + ' : ' + listing(described, undefined, split.length) + '.' + tail;
    return rule('epci_alignment', 'warn', msg, details);
  }

  // ---- admin_boundaries ------------------------------------------------------------------------
  function adminBoundaries(M, P) {
    var D = M.data.deps;
    var R = M.data.regs;
    function table(keyOf, codes, names, extra) {
      var by = {};
      var ids = [];
      P.forEach(function (p) {
        var key = keyOf(p);
        if (!by[key]) {
          by[key] = { n: 0, pop: 0 };
          ids.push(key);
        }
        by[key].n += 1;
        by[key].pop += M.pop[p];
      });
      ids.sort(function (a, b) { return by[b].pop - by[a].pop || cmpStr(codes[a], codes[b]); });
      return ids.map(function (i) {
        var row = { code: codes[i], nom: names[i] };
        if (extra) row.region = extra(i);
        row.n_communes = by[i].n;
        row.population = by[i].pop;
        return row;
      });
    }
    var deps = table(function (p) { return M.dep[p]; }, D.code, D.nom, function (d) { return R.code[D.reg[d]]; });
    var regs = table(function (p) { return D.reg[M.dep[p]]; }, R.code, R.nom);
    var details = { departements: deps, regions: regs };
    function named(rows) {
      return listing(rows.slice(0, 5).map(function (r) { return r.nom + ' (' + r.code + ', ' + frInt(r.population) + ' hab.)'; }), 5, rows.length);
    }
    var msg;
    if (regs.length > 1) {
      msg = 'Territoire sur ' + frInt(regs.length) + ' régions : ' + named(regs) + ', et ' + frInt(deps.length) +
        ' départements : ' + named(deps) + ' ; les ARS de ces régions doivent valider le territoire ensemble.';
      return rule('admin_boundaries', 'warn', msg, details);
    }
    var reg = 'région ' + regs[0].nom;
    if (deps.length > 1) {
      msg = 'Territoire sur ' + frInt(deps.length) + ' départements de la ' + reg + ' : ' + named(deps) + '.';
      return rule('admin_boundaries', 'warn', msg, details);
    }
    msg = 'Territoire dans un seul département, ' + deps[0].nom + ' (' + deps[0].code + '), ' + reg + '.';
    return rule('admin_boundaries', 'pass', msg, details);
  }

  // ---- overlap ---------------------------------------------------------------------------------
  function declaredText(declared) {
    var described = declared.map(function (d) { return d.nom + ' (' + d.code + ') avec ' + listing(d.cpts); });
    return (declared.length === 1 ? 'commune partagée déclarée' : 'communes partagées déclarées') + ' : ' + listing(described);
  }

  function overlap(M, P, inside) {
    var reg = M.data.register;
    var selfId = M.params.cpts_id;
    var self = {};
    var nSelf = 0;
    if (selfId !== null && selfId !== undefined) {
      reg.ids.forEach(function (id, c) {
        if (id === String(selfId)) {
          self[c] = true;
          nSelf += 1;
        }
      });
    }
    var hitBy = {};
    var cptsHit = [];
    var sharedUnits = [];
    var declaredBy = {};
    var declaredUnits = [];
    P.forEach(function (p) {
      var list = M.regCpts[p];
      for (var t = 0; t < list.length; t++) {
        var c = list[t];
        if (self[c]) continue;
        if (nSelf && M.shared[p]) {
          if (!declaredBy[p]) {
            declaredBy[p] = [];
            declaredUnits.push(p);
          }
          declaredBy[p].push(c);
          continue;
        }
        if (!hitBy[c]) {
          hitBy[c] = { n: 0, pop: 0, units: [] };
          cptsHit.push(c);
        }
        hitBy[c].n += 1;
        hitBy[c].pop += M.pop[p];
        hitBy[c].units.push(p);
        if (sharedUnits[sharedUnits.length - 1] !== p) sharedUnits.push(p);
      }
    });
    var declared = declaredUnits.map(function (p) {
      var cs = declaredBy[p].slice().sort(function (a, b) { return a - b; });
      return { code: M.code[p], nom: M.nom[p], population: M.pop[p], cpts: cs.map(function (c) { return reg.ids[c]; }) };
    });
    cptsHit.sort(function (a, b) {
      return hitBy[b].pop - hitBy[a].pop || hitBy[b].n - hitBy[a].n || cmpStr(reg.ids[a], reg.ids[b]);
    });
    var rows = cptsHit.map(function (c) {
      var h = hitBy[c];
      return {
        cpts_id: reg.ids[c],
        cpts_nom: reg.names[c],
        n_communes: h.n,
        population: h.pop,
        communes: h.units.map(function (p) { return unitRecord(M, p, true); })
      };
    });
    var sharedPop = 0;
    sharedUnits.forEach(function (p) { sharedPop += M.pop[p]; });
    var compared = reg.ids.length - nSelf;
    var details = { cpts: rows, n_communes: sharedUnits.length, population: sharedPop, n_cpts_compared: compared, shared: declared };
    var areas = reg.areas ? polygonAreas(M, P, self) : null;
    if (areas) {
      var byId = {};
      rows.forEach(function (r) { byId[r.cpts_id] = r; });
      var total = 0;
      areas.ids.forEach(function (cid) {
        var area = areas.km2[cid];
        total += area;
        if (byId[cid]) byId[cid].area_km2 = area;
        else {
          var at = reg.ids.indexOf(cid);
          rows.push({ cpts_id: cid, cpts_nom: at >= 0 ? reg.names[at] : cid, n_communes: 0, population: 0, communes: [], area_km2: area });
        }
      });
      rows.forEach(function (r) { if (r.area_km2 === undefined) r.area_km2 = 0.0; });
      details.area_km2 = pyRound(total, 2);
    }
    var cutOnly = areas ? rows.filter(function (r) { return r.n_communes === 0; }) : [];
    if (cutOnly.length && cutOnly.length === rows.length) {
      var cut = cutOnly.map(function (r) { return r.cpts_nom + ' (' + r.cpts_id + ') : ' + frDecimal(r.area_km2, 2) + ' km²'; });
      return rule('overlap', 'warn', sentence(
        'Aucune commune partagée, mais le contour de ' + frPlural(cutOnly.length, 'CPTS', 'CPTS') +
          ' du registre empiète sur des communes du territoire : ' + listing(cut) + ' ; à vérifier avec le porteur de la CPTS voisine'
      ), details);
    }
    if (!rows.length && declared.length) return rule('overlap', 'warn', sentence(declaredText(declared)), details);
    if (!rows.length) {
      var msg0 = compared
        ? 'Aucune commune partagée avec les ' + frPlural(compared, 'CPTS', 'CPTS') + ' du registre.'
        : 'Registre sans autre CPTS : aucun chevauchement possible.';
      return rule('overlap', 'pass', msg0, details);
    }
    var sharing = areas ? rows.filter(function (r) { return r.n_communes; }) : rows;
    var described = sharing.slice(0, LIST_MAX).map(function (r) {
      return r.cpts_nom + ' (' + r.cpts_id + ') : ' + frPlural(r.n_communes, 'commune') + ', ' + frInt(r.population) + ' hab.' +
        (r.area_km2 !== undefined ? ', ' + frDecimal(r.area_km2, 2) + ' km²' : '');
    });
    var msg = sentence(
      frPlural(sharedUnits.length, 'commune') + ' (' + frInt(sharedPop) + ' hab.) déjà dans ' + frPlural(sharing.length, 'CPTS', 'CPTS') +
        ' du registre : ' + listing(described, undefined, sharing.length) + (declared.length ? ' ; ' + declaredText(declared) : '')
    );
    return rule('overlap', 'fail', msg, details);
  }

  // Area (km²) each CPTS polygon of a polygon register covers of the territory, by CPTS id
  // (sorted), summed unit by unit as pandas sums (Kahan) and rounded to 0.01.
  function polygonAreas(M, P, self) {
    var reg = M.data.register;
    if (!M.unitAreas) {
      M.unitAreas = {};
      reg.areas.forEach(function (r) { (M.unitAreas[r[1]] = M.unitAreas[r[1]] || []).push([r[0], r[2]]); });
    }
    var skip = {};
    Object.keys(self).forEach(function (c) { skip[reg.ids[c]] = true; });
    var sum = {};
    var comp = {};
    P.forEach(function (p) {
      (M.unitAreas[p] || []).forEach(function (r) {
        var cid = r[0];
        if (skip[cid]) return;
        if (sum[cid] === undefined) {
          sum[cid] = 0;
          comp[cid] = 0;
        }
        var y = r[1] - comp[cid];
        var t = sum[cid] + y;
        comp[cid] = t - sum[cid] - y;
        sum[cid] = t;
      });
    });
    var ids = Object.keys(sum).sort(cmpStr);
    var km2 = {};
    ids.forEach(function (cid) { km2[cid] = pyRound(sum[cid], 2); });
    return { ids: ids, km2: km2 };
  }

  // ---- the report ------------------------------------------------------------------------------
  var RANK = { pass: 0, warn: 1, fail: 2 };

  function check(M, units, name) {
    var P = Array.from(new Set(units)).sort(function (a, b) { return a - b; });
    if (!P.length) return null;
    var inside = new Uint8Array(M.n + M.m);
    var pop = 0;
    P.forEach(function (p) {
      inside[p] = 1;
      pop += M.pop[p];
    });
    var rules = [
      population(M, P, pop),
      contiguity(M, P, inside),
      enclaves(M, P, inside),
      epciAlignment(M, P),
      adminBoundaries(M, P)
    ];
    if (M.data.register) rules.push(overlap(M, P, inside));
    var status = 'pass';
    rules.forEach(function (r) {
      if (RANK[r.status] > RANK[status]) status = r.status;
    });
    var out = {};
    if (M.params.cpts_id !== null && M.params.cpts_id !== undefined) out.cpts_id = String(M.params.cpts_id);
    out.status = status;
    out.territory = {
      name: name || null,
      communes: P.map(function (p) { return M.code[p]; }),
      n_communes: P.length,
      population: pop,
      aci_size_class: aciSizeClass(pop),
      vintage: M.data.vintage,
      population_min: rules[0].details.population_min,
      population_max: rules[0].details.population_max,
      aci_size_class_min: rules[0].details.aci_size_class_min,
      aci_size_class_max: rules[0].details.aci_size_class_max,
      population_known: rules[0].details.population_known
    };
    out.rules = rules;
    out.input_warnings = [];
    return out;
  }

  root.AtelierRules = {
    model: model,
    check: check,
    aciSizeClass: aciSizeClass,
    text: { frInt: frInt, frDecimal: frDecimal, frShare: frShare, frKm: frKm, frPlural: frPlural, listing: listing, pyRound: pyRound }
  };
})(typeof window !== 'undefined' ? window : this);
