/* cpts-geo: put first in a map page's head. When Leaflet is missing (script blocked, file
   removed) or the map script fails, each map container shows a French message instead of a
   white box. Needs nothing else: it runs before Leaflet and without it. */
(function () {
  var errs = [];
  window.addEventListener('error', function (e) {
    errs.push(String((e && e.message) || 'erreur inconnue'));
  });
  function say(div, text, banner) {
    var box = document.createElement('div');
    box.className = 'cpts-carte-erreur';
    box.setAttribute('role', 'alert');
    box.textContent = text;
    box.style.cssText = 'box-sizing:border-box;padding:12px 16px;margin:0;font:14px/1.4 system-ui,Arial,'
      + 'sans-serif;color:#7a1f1f;background:#fdecea;border:1px solid #e0b4b4;z-index:10000;'
      + (banner ? 'position:absolute;top:0;left:0;right:0;' : 'position:relative;max-width:36em;border-radius:6px;');
    if (banner) { div.appendChild(box); return; }
    // In the middle of the map's box, clear of the panels pinned to the page's edges.
    div.textContent = '';
    div.style.display = 'flex';
    div.style.alignItems = 'center';
    div.style.justifyContent = 'center';
    div.style.minHeight = '8em';
    div.appendChild(box);
  }
  window.addEventListener('load', function () {
    var maps = document.querySelectorAll('.folium-map');
    var why = typeof L === 'undefined'
      ? 'la bibliothèque cartographique Leaflet n\u2019a pas été chargée (fichier absent ou accès réseau bloqué).'
      : (errs.length ? 'erreur du script de la carte (« ' + errs[0] + ' »).' : '');
    for (var i = 0; i < maps.length; i++) {
      var div = maps[i];
      var drawn = div.classList.contains('leaflet-container');
      if (!drawn) {
        say(div, 'La carte n\u2019a pas pu être affichée : ' + (why || 'la carte n\u2019a pas été créée.'), false);
      } else if (errs.length) {
        say(div, 'La carte peut être incomplète : ' + why, true);
      }
    }
  });
})();
