/* cpts-geo: the commune search box of the coverage map, with its popup that stays open.

   cptsGeo.search(map, D, C): D holds the units in columns (D.code: 5-character codes end to end;
   D.nom: names joined by '|'; D.pop; D.dlon, D.dlat: coordinates as steps of 1e-4 degree from
   the previous unit; D.cpts: index in C of the unit's CPTS, a list when several, -1 for none);
   C the CPTS names. Type a name or code, pick a hit with a click or Enter: the map zooms there
   and a popup gives the commune's name, population and CPTS.

   Why an earlier version's popup closed at once: the click handler of a hit emptied the list
   *before* the click finished bubbling. Leaflet 1.9 ignores clicks on controls by walking up
   from the event's target to an element marked by L.DomEvent.disableClickPropagation; the
   target, then detached from the page, had no such parent, so the map took the click for a
   click on the map and closed the popup it had just opened (closePopupOnClick). Here the hit's
   click is stopped where it happens (L.DomEvent.stop), the list is emptied only after the popup
   is open and the event is over, the popup opens once the zoom has ended, and mousedown on a
   hit keeps the focus in the box (preventDefault) so that no click lands on the map in between.
   Clicking the map later still closes the popup, as for any Leaflet popup. */
(function () {
  var G = window.cptsGeo = window.cptsGeo || {};

  function norm(s) {
    return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '').toLowerCase()
      .replace(/[^a-z0-9]+/g, ' ').trim();
  }
  function fmt(n) { return n.toString().replace(/\B(?=(\d{3})+(?!\d))/g, '\u00a0'); }
  function el(t, txt) {
    var e = document.createElement(t);
    if (txt !== undefined) e.textContent = txt;
    return e;
  }

  G.search = function (map, D, C) {
    var U = [];
    var nm = D.nom.split('|');
    var x = 0, y = 0;
    for (var i = 0; i < nm.length; i++) {
      x += D.dlon[i];
      y += D.dlat[i];
      var o = D.cpts[i];
      U.push([D.code.substr(5 * i, 5).trim(), nm[i], D.pop[i], x / 1e4, y / 1e4,
              o === -1 ? [] : (Array.isArray(o) ? o : [o])]);
    }
    var keys = U.map(function (u) { return norm(u[1]); });

    function content(u) {
      var box = el('div');
      box.className = 'cpts-search-popup';
      box.appendChild(el('b', u[1] + ' (' + u[0] + ')'));
      box.appendChild(el('div', 'Population : ' + fmt(u[2]) + '\u00a0hab.'));
      if (u[5].length) {
        box.appendChild(el('div', u[5].length > 1 ? 'CPTS (chevauchement) :' : 'CPTS :'));
        var ul = el('ul');
        u[5].forEach(function (k) { ul.appendChild(el('li', C[k])); });
        box.appendChild(ul);
      } else {
        box.appendChild(el('div', 'Zone blanche : aucune CPTS'));
      }
      return box;
    }

    var popup = L.popup({autoPan: true});
    function show(i) {
      var u = U[i];
      var at = L.latLng(u[4], u[3]);
      var z = Math.max(map.getZoom(), 11);
      popup.setLatLng(at).setContent(content(u));
      var open = function () { popup.openOn(map); };
      if (map.getCenter().equals(at) && map.getZoom() === z) { open(); }
      else { map.once('moveend', open); map.setView(at, z); }
    }

    var Ctl = L.Control.extend({options: {position: 'topleft'}, onAdd: function () {
      var d = L.DomUtil.create('div', 'cpts-panel cpts-search');
      d.id = 'cpts-recherche';
      var inp = el('input');
      inp.type = 'search';
      inp.placeholder = 'Rechercher une commune (nom ou code)';
      inp.setAttribute('aria-label', 'Rechercher une commune');
      var ul = el('ul');
      ul.setAttribute('role', 'listbox');
      d.appendChild(inp);
      d.appendChild(ul);
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      // Keys typed in the box ("+", "-", arrows) are for the box, not for the map's keyboard handler.
      L.DomEvent.on(inp, 'keydown keyup keypress', L.DomEvent.stopPropagation);
      function clear() { ul.textContent = ''; }
      function pick(i, e) { if (e) L.DomEvent.stop(e); show(i); setTimeout(clear, 0); }
      L.DomEvent.on(inp, 'input', function () {
        clear();
        var q = norm(inp.value);
        if (q.length < 2) return;
        var hits = [];
        var i;
        for (i = 0; i < U.length && hits.length < 12; i++) {
          if (keys[i].indexOf(q) === 0 || U[i][0] === q.toUpperCase()) hits.push(i);
        }
        for (i = 0; i < U.length && hits.length < 12; i++) {
          if (keys[i].indexOf(q) > 0 && hits.indexOf(i) < 0) hits.push(i);
        }
        hits.forEach(function (i) {
          var li = el('li', U[i][1] + ' (' + U[i][0] + ')');
          li.setAttribute('role', 'option');
          L.DomEvent.on(li, 'mousedown', L.DomEvent.preventDefault);
          L.DomEvent.on(li, 'click', function (e) { pick(i, e); });
          ul.appendChild(li);
        });
      });
      L.DomEvent.on(inp, 'keydown', function (e) {
        if (e.key === 'Enter' && ul.firstChild) { L.DomEvent.preventDefault(e); ul.firstChild.click(); }
      });
      return d;
    }});
    new Ctl().addTo(map);
  };
})();
