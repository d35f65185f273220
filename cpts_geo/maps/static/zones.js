/* Hatching of the zone overlays (zonage médecins, zones rouges, QPV): one SVG pattern per
 * category, put in the <defs> of the map's SVG renderer, which the overlays fill with
 * fill="url(#id) colour" (the colour is the fallback when the pattern is missing).
 * patterns: [{id: "cpts-zone-0-1", color: "#b2182b", angle: 45}, ...]
 * No double brace or brace-percent in this file: branca reads a map's scripts as templates. */
function cptsZonePatterns(map, patterns) {
  var ns = 'http://www.w3.org/2000/svg';
  function add() {
    var svg = map.getPanes().overlayPane.querySelector('svg');
    if (!svg) { return; }
    var defs = svg.querySelector('defs');
    if (!defs) {
      defs = document.createElementNS(ns, 'defs');
      svg.insertBefore(defs, svg.firstChild);
    }
    patterns.forEach(function (p) {
      if (svg.querySelector('pattern[id="' + p.id + '"]')) { return; }
      var pat = document.createElementNS(ns, 'pattern');
      pat.setAttribute('id', p.id);
      pat.setAttribute('patternUnits', 'userSpaceOnUse');
      pat.setAttribute('width', '8');
      pat.setAttribute('height', '8');
      pat.setAttribute('patternTransform', 'rotate(' + p.angle + ')');
      var bg = document.createElementNS(ns, 'rect');
      bg.setAttribute('width', '8');
      bg.setAttribute('height', '8');
      bg.setAttribute('fill', p.color);
      bg.setAttribute('fill-opacity', '0.12');
      var line = document.createElementNS(ns, 'line');
      line.setAttribute('x1', '0');
      line.setAttribute('y1', '0');
      line.setAttribute('x2', '0');
      line.setAttribute('y2', '8');
      line.setAttribute('stroke', p.color);
      line.setAttribute('stroke-width', '2.4');
      pat.appendChild(bg);
      pat.appendChild(line);
      defs.appendChild(pat);
    });
  }
  add();
  map.on('overlayadd layeradd', add);
}
