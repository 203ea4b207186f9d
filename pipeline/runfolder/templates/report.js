(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var byId = function (id) { return document.getElementById(id); };
  var f = {member: byId("f-member"), agenda: byId("f-agenda"), program: byId("f-program"),
           theme: byId("f-theme"), search: byId("f-search"), review: byId("f-review")};
  var list = byId("unit-list"), shown = byId("shown-count"), empty = byId("no-units");
  var changedCount = byId("changed-count"), download = byId("download-corrections");
  var labels = {};
  data.themes.forEach(function (t) { labels[t.id] = t.label; });

  function span(cls, text) {
    var el = document.createElement("span");
    el.className = cls;
    el.textContent = text;
    return el;
  }

  // Score, runner-up and margin as the run wrote them; "—" where the model gave none.
  function confidence(u) {
    var score = u.theme_score === null ? "—" : u.theme_score.toFixed(2);
    var runner = u.theme_runner_up ? (labels[u.theme_runner_up] || u.theme_runner_up) : "—";
    var margin = u.theme_margin === null ? "—" : u.theme_margin.toFixed(2);
    return "점수 " + score + " · 차순위 " + runner + " (차이 " + margin + ")";
  }

  function themeSelect(u) {
    var select = document.createElement("select");
    select.className = "theme-select";
    select.setAttribute("aria-label", "주제 변경");
    data.themes.forEach(function (t) {
      var option = document.createElement("option");
      option.value = t.id;
      option.textContent = t.label;
      select.appendChild(option);
    });
    select.value = u.theme_id;
    return select;
  }

  var items = data.units.map(function (u) {
    var li = document.createElement("li");
    li.dataset.recId = u.rec_id;
    var meta = document.createElement("div");
    meta.className = "meta";
    meta.textContent = [u.rec_id, u.member, u.agenda, "행 " + u.lines].filter(Boolean).join(" · ");
    var text = document.createElement("p");
    text.className = "text";
    text.textContent = u.text;
    var tags = document.createElement("div");
    tags.className = "row";
    tags.appendChild(span("badge badge-" + u.theme_source, u.theme_label));
    if (u.needs_review) { tags.appendChild(span("badge badge-review", "검토 필요")); }
    u.codes.forEach(function (c) { tags.appendChild(span("chip code", c)); });
    var edit = document.createElement("div");
    edit.className = "row";
    var select = themeSelect(u);
    var label = document.createElement("label");
    label.className = "conf";
    label.textContent = "주제 ";
    label.appendChild(select);
    edit.appendChild(label);
    edit.appendChild(span("conf", confidence(u)));
    li.appendChild(meta);
    if (u.question) { li.appendChild(span("q", "[" + u.question + "]")); }
    li.appendChild(text);
    li.appendChild(tags);
    li.appendChild(edit);
    list.appendChild(li);
    var hay = [u.text, u.question, u.agenda, u.rec_id, u.theme_label, u.member].join(" ").toLowerCase();
    return {u: u, li: li, hay: hay, select: select};
  });

  function changes() {
    return items.filter(function (it) { return it.select.value !== it.u.theme_id; });
  }

  function refreshChanges() {
    var n = 0;
    items.forEach(function (it) {
      var changed = it.select.value !== it.u.theme_id;
      it.li.classList.toggle("changed", changed);
      if (changed) { n += 1; }
    });
    changedCount.textContent = String(n);
    download.disabled = n === 0;
  }

  function csvField(value) {
    return /[",\r\n]/.test(value) ? "\"" + value.replace(/"/g, "\"\"") + "\"" : value;
  }

  // rec_id,theme_id,note with a BOM, the corrections file `advisory run --corrections` reads.
  function correctionsCsv() {
    var rows = ["rec_id,theme_id,note"];
    changes().forEach(function (it) {
      var note = "보고서에서 수정: " + it.u.theme_id + " → " + it.select.value;
      rows.push([it.u.rec_id, it.select.value, note].map(csvField).join(","));
    });
    return "\ufeff" + rows.join("\n") + "\n";
  }

  function matches(u, hay, terms) {
    if (f.member.value && u.member !== f.member.value) { return false; }
    if (f.agenda.value && u.agenda !== f.agenda.value) { return false; }
    if (f.program.value === "__none__") {
      if (u.codes.length) { return false; }
    } else if (f.program.value && u.codes.indexOf(f.program.value) < 0) { return false; }
    if (f.theme.value && u.theme_id !== f.theme.value) { return false; }
    if (f.review.checked && !u.needs_review) { return false; }
    return terms.every(function (t) { return hay.indexOf(t) >= 0; });
  }

  function apply() {
    var terms = f.search.value.toLowerCase().split(/\s+/).filter(Boolean);
    var n = 0;
    items.forEach(function (it) {
      var ok = matches(it.u, it.hay, terms);
      it.li.hidden = !ok;
      if (ok) { n += 1; }
    });
    shown.textContent = String(n);
    empty.hidden = n > 0;
    document.querySelectorAll(".matrix td").forEach(function (td) {
      var b = td.querySelector("button.cell");
      td.classList.toggle("active", !!b && b.dataset.theme === f.theme.value &&
                                    b.dataset.code === f.program.value);
    });
  }

  function showList() { byId("units").scrollIntoView({behavior: "smooth", block: "start"}); }

  Object.keys(f).forEach(function (k) { f[k].addEventListener(k === "search" ? "input" : "change", apply); });
  byId("f-reset").addEventListener("click", function () {
    Object.keys(f).forEach(function (k) {
      if (k === "review") { f[k].checked = false; } else { f[k].value = ""; }
    });
    apply();
  });
  list.addEventListener("change", function (event) {
    if (event.target.classList.contains("theme-select")) { refreshChanges(); }
  });
  // A Blob URL works from file:// with no server; the click saves corrections.csv.
  download.addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([correctionsCsv()], {type: "text/csv;charset=utf-8"}));
    var a = document.createElement("a");
    a.href = url;
    a.download = "corrections.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
  });
  document.querySelectorAll("button.cell").forEach(function (b) {
    b.addEventListener("click", function () {
      f.theme.value = b.dataset.theme;
      f.program.value = b.dataset.code;
      apply();
      showList();
    });
  });
  document.querySelectorAll("button.rowhead, button.show-theme").forEach(function (b) {
    b.addEventListener("click", function () {
      f.theme.value = b.dataset.theme;
      f.program.value = "";
      apply();
      showList();
    });
  });
  // New-theme candidates: copy a candidate's codebook entry. The Clipboard API needs a secure context,
  // which a report opened from a file may not be; a selected, hidden textarea is the fallback.
  document.querySelectorAll("button.copy-yaml").forEach(function (b) {
    b.addEventListener("click", function () {
      var text = byId(b.dataset.target).textContent, status = b.nextElementSibling;
      function done(ok) {
        status.textContent = ok ? "복사했습니다" : "복사하지 못했습니다: 위 글을 직접 선택해 복사하세요";
      }
      function fallback() {
        var area = document.createElement("textarea");
        area.value = text;
        area.setAttribute("readonly", "");
        area.style.position = "fixed";
        area.style.opacity = "0";
        document.body.appendChild(area);
        area.select();
        var ok = false;
        try { ok = document.execCommand("copy"); } catch (err) { ok = false; }
        area.remove();
        done(ok);
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
      } else {
        fallback();
      }
    });
  });
  apply();
  refreshChanges();
})();
