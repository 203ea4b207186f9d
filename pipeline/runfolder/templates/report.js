(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var byId = function (id) { return document.getElementById(id); };
  var f = {member: byId("f-member"), agenda: byId("f-agenda"), program: byId("f-program"),
           theme: byId("f-theme"), search: byId("f-search"), review: byId("f-review")};
  var list = byId("unit-list"), shown = byId("shown-count"), empty = byId("no-units");
  var changedCount = byId("changed-count"), download = byId("download-corrections");
  var recordCount = byId("record-count"), unsavedNote = byId("unsaved-note"), restoredNote = byId("restored-note");
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

  var NEW_THEME = "__new__";

  function option(value, text) {
    var o = document.createElement("option");
    o.value = value;
    o.textContent = text;
    return o;
  }

  // Every theme of the model, "새 주제…" (a theme the researcher names), then 미분류 last.
  function themeSelect(u) {
    var select = document.createElement("select");
    select.className = "theme-select";
    select.setAttribute("aria-label", "주제 변경");
    data.themes.forEach(function (t) {
      if (t.id === "unassigned") { select.appendChild(option(NEW_THEME, "새 주제…")); }
      select.appendChild(option(t.id, t.label));
    });
    select.value = u.theme_id;
    return select;
  }

  // The inline form that names a new theme: a text box, 추가 and 취소.
  function newThemeForm() {
    var form = document.createElement("span");
    form.className = "new-theme";
    form.hidden = true;
    var input = document.createElement("input");
    input.type = "text";
    input.className = "new-theme-label";
    input.placeholder = "새 주제 이름 (예: 기후·환경)";
    var add = document.createElement("button");
    add.type = "button";
    add.className = "new-theme-add";
    add.textContent = "추가";
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "new-theme-cancel";
    cancel.textContent = "취소";
    form.appendChild(input);
    form.appendChild(add);
    form.appendChild(cancel);
    return form;
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
    var form = newThemeForm();
    var label = document.createElement("label");
    label.className = "conf";
    label.textContent = "주제 ";
    label.appendChild(select);
    edit.appendChild(label);
    edit.appendChild(form);
    edit.appendChild(span("conf", confidence(u)));
    li.appendChild(meta);
    if (u.question) { li.appendChild(span("q", "[" + u.question + "]")); }
    li.appendChild(text);
    li.appendChild(tags);
    li.appendChild(edit);
    list.appendChild(li);
    var hay = [u.text, u.question, u.agenda, u.rec_id, u.theme_label, u.member].join(" ").toLowerCase();
    return {u: u, li: li, hay: hay, select: select, form: form, last: u.theme_id};
  });
  var byRec = {};
  items.forEach(function (it) { byRec[it.u.rec_id] = it; });

  // --- the coding record: the run's earlier decisions, and this page's edits on top of them ---------------
  // An edit is {theme_id, theme_label, time, previous}; a new theme has theme_id "" and only its label.
  var storageKey = "advisory-themes:" + data.run_key;
  var edits = {};
  var downloaded = "{}";

  function themeOf(value) {
    if (value.indexOf("new:") === 0) { return {id: "", label: value.slice(4)}; }
    return {id: value, label: labels[value] || value};
  }

  function addThemeOption(value, text) {
    items.forEach(function (it) {
      if (![].some.call(it.select.options, function (o) { return o.value === value; })) {
        it.select.insertBefore(option(value, text), it.select.querySelector("option[value='" + NEW_THEME + "']"));
      }
    });
  }

  function store() {
    try { localStorage.setItem(storageKey, JSON.stringify({edits: edits, downloaded: downloaded})); } catch (e) {
      // Storage can be off (private windows): the edits then live as long as the page.
    }
  }

  function setEdit(it, value) {
    if (value === it.u.theme_id) {
      delete edits[it.u.rec_id];
    } else {
      var theme = themeOf(value);
      edits[it.u.rec_id] = {theme_id: theme.id, theme_label: theme.label, time: new Date().toISOString(),
                            previous: it.u.theme_id};
    }
    it.last = value;
    store();
  }

  function unsaved() { return JSON.stringify(edits) !== downloaded; }

  function refreshChanges() {
    var n = 0;
    items.forEach(function (it) {
      var changed = it.u.rec_id in edits;
      it.li.classList.toggle("changed", changed);
      if (changed) { n += 1; }
    });
    changedCount.textContent = String(n);
    recordCount.textContent = String(recordRows().length);
    download.disabled = recordRows().length === 0;
    unsavedNote.hidden = !unsaved() || n === 0;
  }

  // The whole record in unit order: an edit made here, else the run's earlier decision on the unit.
  function recordRows() {
    var earlier = {};
    data.record.forEach(function (r) { earlier[r.rec_id] = r; });
    var rows = [];
    items.forEach(function (it) {
      var e = edits[it.u.rec_id];
      if (e) {
        rows.push({rec_id: it.u.rec_id, theme_id: e.theme_id, theme_label: e.theme_label,
                   note: "보고서에서 수정: " + e.previous + " → " + (e.theme_id || "새 주제 " + e.theme_label),
                   source: "report", time: e.time, previous_theme_id: e.previous});
      } else if (earlier[it.u.rec_id]) {
        rows.push(earlier[it.u.rec_id]);
      }
    });
    return rows;
  }

  function csvField(value) {
    value = value === null || value === undefined ? "" : String(value);
    return /[",\r\n]/.test(value) ? "\"" + value.replace(/"/g, "\"\"") + "\"" : value;
  }

  // The record with a BOM, as `advisory run --corrections` reads it and the run folder keeps it.
  var COLUMNS = ["rec_id", "theme_id", "theme_label", "note", "source", "time", "previous_theme_id"];
  function correctionsCsv() {
    var rows = [COLUMNS.join(",")];
    recordRows().forEach(function (r) {
      rows.push(COLUMNS.map(function (c) { return csvField(r[c]); }).join(","));
    });
    return "\ufeff" + rows.join("\n") + "\n";
  }

  // Edits kept in this browser from an earlier visit; one the run has since applied is dropped.
  function restore() {
    var kept;
    try { kept = JSON.parse(localStorage.getItem(storageKey) || "null"); } catch (e) { kept = null; }
    if (!kept || !kept.edits) { return 0; }
    var n = 0;
    Object.keys(kept.edits).forEach(function (rec) {
      var it = byRec[rec], e = kept.edits[rec];
      if (!it) { return; }
      // A theme named here that a rerun has since made is that theme now.
      var named = e.theme_id ? null : data.themes.filter(function (t) { return t.label === e.theme_label; })[0];
      if (named) { e = {theme_id: named.id, theme_label: named.label, time: e.time, previous: e.previous}; }
      var value = e.theme_id || "new:" + e.theme_label;
      if (!e.theme_id) { addThemeOption(value, e.theme_label); }
      if (e.theme_id === it.u.theme_id) { return; }
      it.select.value = value;
      it.last = value;
      edits[rec] = e;
      n += 1;
    });
    downloaded = kept.downloaded || "{}";
    return n;
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
  function itemOf(el) { return byRec[el.closest("li").dataset.recId]; }

  list.addEventListener("change", function (event) {
    if (!event.target.classList.contains("theme-select")) { return; }
    var it = itemOf(event.target);
    if (event.target.value === NEW_THEME) {
      it.form.hidden = false;
      it.form.querySelector("input").focus();
      return;
    }
    it.form.hidden = true;
    setEdit(it, event.target.value);
    refreshChanges();
  });
  list.addEventListener("click", function (event) {
    var button = event.target;
    if (!button.classList.contains("new-theme-add") && !button.classList.contains("new-theme-cancel")) { return; }
    var it = itemOf(button);
    var name = it.form.querySelector("input").value.trim();
    it.form.hidden = true;
    if (button.classList.contains("new-theme-cancel") || !name) {
      it.select.value = it.last;
      return;
    }
    // A name a theme already has means that theme.
    var existing = data.themes.filter(function (t) { return t.label === name; })[0];
    var value = existing ? existing.id : "new:" + name;
    if (!existing) { addThemeOption(value, name); }
    it.select.value = value;
    setEdit(it, value);
    refreshChanges();
  });
  // A Blob URL works from file:// with no server; the click saves corrections.csv, the whole record.
  download.addEventListener("click", function () {
    var url = URL.createObjectURL(new Blob([correctionsCsv()], {type: "text/csv;charset=utf-8"}));
    var a = document.createElement("a");
    a.href = url;
    a.download = "corrections.csv";
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
    downloaded = JSON.stringify(edits);
    store();
    refreshChanges();
  });
  // Closing or reloading with edits not yet downloaded asks first; the edits stay in this browser anyway.
  window.addEventListener("beforeunload", function (event) {
    if (Object.keys(edits).length && unsaved()) {
      event.preventDefault();
      event.returnValue = "";
    }
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
  var restored = restore();
  restoredNote.hidden = restored === 0;
  restoredNote.textContent = "이 브라우저에 남아 있던 수정 " + restored + "건을 되살렸습니다.";
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
