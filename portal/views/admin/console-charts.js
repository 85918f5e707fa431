/*
 * Draws the console's charts from the tables that carry their figures (progressive enhancement:
 * without JavaScript, or before it runs, the tables are the report). A table with `data-chart`
 * gives its x values on the rows (`data-x`, seconds) and a series per header cell with
 * `data-series` (`count` or `bytes`), its values on the cells (`data-v`). Served from the box.
 */
(function () {
  'use strict';
  if (typeof window.uPlot !== 'function') return;
  var uPlot = window.uPlot;
  var COLOURS = ['#1b2a41', '#3a6fb0', '#f2a900', '#137333'];
  var UNITS = ['B', 'kB', 'MB', 'GB', 'TB', 'PB'];

  function bytes(value) {
    var unit = 0;
    var v = Math.abs(value);
    while (v >= 1000 && unit < UNITS.length - 1) {
      v /= 1000;
      unit += 1;
    }
    return (value < 0 ? '-' : '') + (v >= 100 || unit === 0 ? Math.round(v) : v.toFixed(1)) + ' ' + UNITS[unit];
  }

  function fromZero(_u, _min, max) {
    return [0, Math.max(1, max || 0) * 1.05];
  }

  function draw(table) {
    var heads = Array.prototype.slice.call(table.tHead.rows[0].cells);
    var columns = [];
    heads.forEach(function (cell, index) {
      if (cell.dataset.series) columns.push({ index: index, scale: cell.dataset.series, label: cell.textContent });
    });
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    rows.sort(function (a, b) {
      return Number(a.dataset.x) - Number(b.dataset.x);
    });
    var data = [
      rows.map(function (row) {
        return Number(row.dataset.x);
      }),
    ];
    columns.forEach(function (column) {
      data.push(
        rows.map(function (row) {
          return Number(row.cells[column.index].dataset.v);
        }),
      );
    });
    var hasBytes = columns.some(function (c) {
      return c.scale === 'bytes';
    });
    var series = [{}].concat(
      columns.map(function (column, i) {
        var isCount = column.scale === 'count';
        return {
          label: column.label,
          scale: column.scale,
          stroke: COLOURS[i % COLOURS.length],
          width: 2,
          fill: isCount && hasBytes ? undefined : COLOURS[i % COLOURS.length] + '22',
          value: function (_u, v) {
            return v === null ? '' : isCount ? String(v) : bytes(v);
          },
        };
      }),
    );
    var axes = [{}];
    if (hasBytes) {
      axes.push({
        scale: 'bytes',
        size: 70,
        values: function (_u, ticks) {
          return ticks.map(bytes);
        },
      });
    }
    var scales = {};
    columns.forEach(function (column) {
      scales[column.scale] = { range: fromZero };
    });
    if (scales.count) axes.push({ scale: 'count', side: hasBytes ? 1 : 3, size: 50 });
    var figure = table.closest('figure') || table.parentNode;
    var details = table.closest('details');
    var box = document.createElement('div');
    box.className = 'chart';
    box.setAttribute('role', 'img');
    box.setAttribute('aria-label', (figure.querySelector('figcaption') || {}).textContent || '');
    figure.insertBefore(box, details || table);
    var width = Math.max(280, box.clientWidth || figure.clientWidth - 24);
    // x values are the venue's wall clock written as UTC: read them back as UTC, whatever the browser's zone.
    var tzDate = function (ts) {
      return uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC');
    };
    new uPlot({ width: width, height: 220, series: series, axes: axes, scales: scales, tzDate: tzDate }, data, box);
    // The chart now says it; the table stays one click away.
    if (details) details.open = false;
  }

  document.querySelectorAll('table[data-chart]').forEach(function (table) {
    try {
      draw(table);
    } catch (err) {
      // A chart that cannot be drawn leaves the table as it is.
      if (window.console) window.console.error(err);
    }
  });
})();
