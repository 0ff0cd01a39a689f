/* The alerts dashboard's charts: each [data-stats-url] section fetches its series (a table of
   columns and rows, with how to draw it) and draws it as SVG bars, stacked bars or lines, with
   the same figures as a table underneath.

   Written here rather than taken from a chart library: the only ones packaged for Python (so
   served by us without npm or a CDN) are a decade old (Chart.js 1.0, D3 3.5); the three chart
   kinds the dashboard needs fit in this file, and SVG keeps to the page's CSP (colours come
   from dashboard.css classes, never inline styles). */
(function () {
  "use strict";

  var SVG = "http://www.w3.org/2000/svg";
  var WIDTH = 640;
  var HEIGHT = 240;
  var MARGIN = { top: 12, right: 12, bottom: 44, left: 48 };
  var COLOURS = 8; // .series-0 .. .series-7 in dashboard.css

  function svgNode(name, attributes, text) {
    var node = document.createElementNS(SVG, name);
    Object.keys(attributes || {}).forEach(function (key) {
      node.setAttribute(key, attributes[key]);
    });
    if (text !== undefined) {
      node.textContent = text;
    }
    return node;
  }

  function htmlNode(name, text, className) {
    var node = document.createElement(name);
    if (text !== undefined && text !== null) {
      node.textContent = text;
    }
    if (className) {
      node.className = className;
    }
    return node;
  }

  function label(columns, key) {
    for (var i = 0; i < columns.length; i++) {
      if (columns[i].key === key) {
        return columns[i].label;
      }
    }
    return key;
  }

  function formatted(value) {
    if (value === null || value === undefined) {
      return "";
    }
    if (typeof value === "number") {
      return value % 1 === 0 ? value.toLocaleString() : value.toLocaleString(undefined, { maximumFractionDigits: 3 });
    }
    return String(value);
  }

  /* The rows as one value per (x, group): xs in the order the server sent them, groups too. */
  function pivot(rows, x, y, group) {
    var xs = [];
    var groups = [];
    var cells = {};
    rows.forEach(function (row) {
      var xv = String(row[x]);
      var gv = group ? String(row[group]) : "";
      if (xs.indexOf(xv) < 0) {
        xs.push(xv);
      }
      if (groups.indexOf(gv) < 0) {
        groups.push(gv);
      }
      var key = xv + "\u0000" + gv;
      cells[key] = (cells[key] || 0) + (Number(row[y]) || 0);
    });
    return {
      xs: xs,
      groups: groups,
      value: function (xv, gv) {
        return cells[xv + "\u0000" + gv] || 0;
      },
    };
  }

  function niceMax(value) {
    if (value <= 0) {
      return 1;
    }
    var power = Math.pow(10, Math.floor(Math.log10(value)));
    var steps = [1, 2, 2.5, 5, 10];
    for (var i = 0; i < steps.length; i++) {
      if (steps[i] * power >= value) {
        return steps[i] * power;
      }
    }
    return 10 * power;
  }

  function axes(svg, data, top) {
    var plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
    var plotWidth = WIDTH - MARGIN.left - MARGIN.right;
    [0, 0.5, 1].forEach(function (share) {
      var yPos = MARGIN.top + plotHeight * (1 - share);
      svg.appendChild(svgNode("line", { x1: MARGIN.left, x2: MARGIN.left + plotWidth, y1: yPos, y2: yPos, class: "grid" }));
      svg.appendChild(svgNode("text", { x: MARGIN.left - 6, y: yPos + 4, class: "tick tick-y" }, formatted(top * share)));
    });
    var every = Math.max(1, Math.ceil(data.xs.length / 8));
    var slot = plotWidth / Math.max(1, data.xs.length);
    data.xs.forEach(function (xv, i) {
      if (i % every === 0) {
        svg.appendChild(svgNode("text", { x: MARGIN.left + slot * (i + 0.5), y: HEIGHT - MARGIN.bottom + 16, class: "tick tick-x" }, xv));
      }
    });
    return { plotHeight: plotHeight, slot: slot };
  }

  function drawBars(svg, data, stacked) {
    var totals = data.xs.map(function (xv) {
      return data.groups.reduce(function (sum, gv) {
        return sum + data.value(xv, gv);
      }, 0);
    });
    var top = niceMax(Math.max.apply(null, totals.concat([0])));
    var frame = axes(svg, data, top);
    var width = Math.max(1, frame.slot * 0.7);
    data.xs.forEach(function (xv, i) {
      var base = MARGIN.top + frame.plotHeight;
      data.groups.forEach(function (gv, g) {
        var value = data.value(xv, gv);
        if (!value) {
          return;
        }
        var h = (value / top) * frame.plotHeight;
        base -= h;
        var bar = svgNode("rect", {
          x: MARGIN.left + frame.slot * i + (frame.slot - width) / 2,
          y: base,
          width: width,
          height: Math.max(h, 0.5),
          class: "series-" + (stacked ? g % COLOURS : 0),
        });
        bar.appendChild(svgNode("title", {}, xv + (gv ? ", " + gv : "") + ": " + formatted(value)));
        svg.appendChild(bar);
      });
    });
  }

  function drawLines(svg, data) {
    var top = 0;
    data.xs.forEach(function (xv) {
      data.groups.forEach(function (gv) {
        top = Math.max(top, data.value(xv, gv));
      });
    });
    top = niceMax(top);
    var frame = axes(svg, data, top);
    data.groups.forEach(function (gv, g) {
      var points = data.xs.map(function (xv, i) {
        var xPos = MARGIN.left + frame.slot * (i + 0.5);
        var yPos = MARGIN.top + frame.plotHeight * (1 - data.value(xv, gv) / top);
        return xPos.toFixed(1) + "," + yPos.toFixed(1);
      });
      var line = svgNode("polyline", { points: points.join(" "), class: "line series-" + (g % COLOURS) });
      line.appendChild(svgNode("title", {}, gv));
      svg.appendChild(line);
    });
  }

  function legend(box, groups) {
    if (groups.length < 2 && !groups[0]) {
      return;
    }
    var list = htmlNode("ul", null, "chart-legend");
    groups.forEach(function (gv, g) {
      var item = htmlNode("li");
      item.appendChild(htmlNode("span", "", "swatch series-" + (g % COLOURS)));
      item.appendChild(document.createTextNode(gv || "(none)"));
      list.appendChild(item);
    });
    box.appendChild(list);
  }

  function table(box, payload) {
    var wrap = htmlNode("table");
    var head = htmlNode("thead");
    var headRow = htmlNode("tr");
    payload.columns.forEach(function (column) {
      var cell = htmlNode("th", column.label);
      cell.setAttribute("scope", "col");
      headRow.appendChild(cell);
    });
    head.appendChild(headRow);
    wrap.appendChild(head);
    var body = htmlNode("tbody");
    payload.rows.forEach(function (row) {
      var tr = htmlNode("tr");
      payload.columns.forEach(function (column) {
        tr.appendChild(htmlNode("td", formatted(row[column.key])));
      });
      body.appendChild(tr);
    });
    wrap.appendChild(body);
    box.textContent = "";
    if (!payload.rows.length) {
      box.appendChild(htmlNode("p", "Nothing in this range.", "muted"));
      return;
    }
    box.appendChild(wrap);
  }

  function draw(section, payload, group) {
    var box = section.querySelector("[data-chart]");
    var chart = payload.chart;
    box.textContent = "";
    if (chart.kind === "table") {
      table(box, payload);
      box.removeAttribute("role");
      var details = section.querySelector("details.chart-table");
      if (details) {
        details.hidden = true;
      }
      return;
    }
    if (!payload.rows.length) {
      box.appendChild(htmlNode("p", "Nothing in this range.", "muted"));
    } else {
      var data = pivot(payload.rows, chart.x, chart.y, group);
      var svg = svgNode("svg", { viewBox: "0 0 " + WIDTH + " " + HEIGHT, class: "chart-svg", focusable: "false" });
      svg.appendChild(svgNode("title", {}, section.querySelector("h2").textContent));
      if (chart.kind === "line") {
        drawLines(svg, data);
      } else {
        drawBars(svg, data, chart.kind === "stacked");
      }
      box.appendChild(svg);
      legend(box, group ? data.groups : []);
    }
    var total = section.querySelector("[data-chart-total]");
    if (total && chart.kind !== "bars") {
      var sum = payload.rows.reduce(function (acc, row) {
        return acc + (Number(row[chart.y]) || 0);
      }, 0);
      total.textContent = "Total: " + formatted(sum) + " (" + label(payload.columns, chart.y).toLowerCase() + ")";
      total.setAttribute("data-total", String(sum));
    }
  }

  function controls(section, payload) {
    var box = section.querySelector("[data-chart-controls]");
    var groups = payload.chart.groups || [];
    if (!box || groups.length < 2) {
      return;
    }
    var id = section.getAttribute("aria-labelledby") + "-group";
    var field = htmlNode("label", "Split by ");
    field.setAttribute("for", id);
    var select = htmlNode("select");
    select.id = id;
    groups.forEach(function (key) {
      var option = htmlNode("option", label(payload.columns, key));
      option.value = key;
      select.appendChild(option);
    });
    select.addEventListener("change", function () {
      draw(section, payload, select.value);
    });
    box.appendChild(field);
    box.appendChild(select);
  }

  function load(section) {
    fetch(section.getAttribute("data-stats-url"), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) {
        return response.json().then(function (body) {
          if (!response.ok) {
            throw new Error(body.detail || "The figures could not be loaded.");
          }
          return body;
        });
      })
      .then(function (payload) {
        var description = section.querySelector("[data-chart-description]");
        if (description) {
          description.textContent = payload.description;
        }
        controls(section, payload);
        draw(section, payload, (payload.chart.groups || [])[0] || "");
        var tableBox = section.querySelector("[data-chart-table]");
        if (tableBox && payload.chart.kind !== "table") {
          table(tableBox, payload);
        }
        section.setAttribute("data-loaded", "true");
      })
      .catch(function (error) {
        var box = section.querySelector("[data-chart]");
        box.textContent = "";
        box.appendChild(htmlNode("p", error.message || "The figures could not be loaded.", "error"));
      });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-stats-url]"), load);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
