/* cpts-geo: the parts every map page shares, called by one short line each from the map's
   own script (the map object and the data are the call's arguments; nothing here is templated).
   Leaflet (L) is only used when a function is called, after the map was created. */
(function () {
  var G = window.cptsGeo = window.cptsGeo || {};

  /* A metric scale (no miles), and tooltips drawn above the page's panels (title, figures,
     legend): Leaflet draws tooltips in a pane inside the map pane, whose stacking context is
     below the fixed panels; they get a pane of their own in the map's container, kept at the
     map pane's offset as the map moves. */
  G.chrome = function (map) {
    L.control.scale({imperial: false}).addTo(map);
    var tp = map.createPane('cptsTips', map.getContainer());
    tp.style.zIndex = 1100;
    tp.style.pointerEvents = 'none';
    function sync() { L.DomUtil.setPosition(tp, map._getMapPanePos()); }
    map.on('move zoom viewreset resize zoomend', sync);
    sync();
    L.Tooltip.prototype.options.pane = 'cptsTips';
  };

  /* An SVG hatching the layers fill with 'url(#ID)': p = {id, size, angle, fill, stroke, width}. */
  G.hatch = function (map, p) {
    var svg = map.getPanes().overlayPane.querySelector('svg');
    if (!svg) return;
    var ns = 'http://www.w3.org/2000/svg';
    function node(tag, attrs) {
      var e = document.createElementNS(ns, tag);
      for (var k in attrs) e.setAttribute(k, attrs[k]);
      return e;
    }
    var s = String(p.size);
    var defs = node('defs', {});
    var pat = node('pattern', {id: p.id, patternUnits: 'userSpaceOnUse', width: s, height: s,
                               patternTransform: 'rotate(' + p.angle + ')'});
    pat.appendChild(node('rect', {width: s, height: s, fill: p.fill}));
    pat.appendChild(node('line', {x1: '0', y1: '0', x2: '0', y2: s, stroke: p.stroke,
                                  'stroke-width': String(p.width)}));
    defs.appendChild(pat);
    svg.insertBefore(defs, svg.firstChild);
  };

  /* The national map's buttons framing metropolitan France or one DROM: views = [[label, bounds]]. */
  G.zones = function (map, views) {
    var Ctl = L.Control.extend({options: {position: 'topleft'}, onAdd: function () {
      var d = L.DomUtil.create('div', 'cpts-panel cpts-zones');
      d.id = 'cpts-zones';
      var det = document.createElement('details');
      det.open = true;
      var s = document.createElement('summary');
      s.textContent = 'Territoires';
      det.appendChild(s);
      views.forEach(function (v) {
        var b = document.createElement('button');
        b.type = 'button';
        b.textContent = v[0];
        L.DomEvent.on(b, 'click', function (e) { L.DomEvent.stop(e); map.fitBounds(v[1], {padding: [20, 20]}); });
        det.appendChild(b);
      });
      d.appendChild(det);
      L.DomEvent.disableClickPropagation(d);
      L.DomEvent.disableScrollPropagation(d);
      return d;
    }});
    new Ctl().addTo(map);
  };

  /* The share-covered choropleth, drawn from another layer's features (the départements), so
     that their boundaries are written once in the page. Properties are HTML-escaped upstream. */
  G.choropleth = function (source) {
    return L.geoJson(source.toGeoJSON(), {
      className: 'cpts-choroplethe',
      style: function (f) {
        return {color: '#555', weight: 0.8, fillColor: f.properties._color, fillOpacity: 0.85};
      },
      onEachFeature: function (f, l) {
        var p = f.properties;
        l.bindTooltip('<b>' + p.nom + '</b><br>Population couverte : ' + p.couverture
          + '<br>CPTS : ' + p.cpts + '<br>Zones blanches : ' + p.blanches, {sticky: true});
      }
    });
  };

  /* Append a section (HTML built and escaped by cpts-geo) to the panel whose id is given. */
  G.appendToPanel = function (id, html) {
    var p = document.getElementById(id);
    if (p) p.insertAdjacentHTML('beforeend', html);
  };
})();
