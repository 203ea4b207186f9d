(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("data").textContent);
  const list = document.getElementById("unit-list");
  function setRound(col, on) {
    document.querySelectorAll("[data-col=\"" + col + "\"]").forEach(el => { el.hidden = !on; });
  }
  document.querySelectorAll("input.round-toggle").forEach(box => {
    box.addEventListener("change", () => setRound(box.value, box.checked));
  });
  function setAll(on) {
    document.querySelectorAll("input.round-toggle").forEach(box => { box.checked = on; setRound(box.value, on); });
  }
  document.getElementById("rounds-all").addEventListener("click", () => setAll(true));
  document.getElementById("rounds-none").addEventListener("click", () => setAll(false));
  // A cell lists its units (at most the page's per-cell limit); the script only ever sets textContent.
  function show(button) {
    document.querySelectorAll("td.active").forEach(td => td.classList.remove("active"));
    button.parentElement.classList.add("active");
    const round = Number(button.dataset.round), theme = button.dataset.theme;
    const units = data.units.filter(u => u[0] === round && u[1] === theme);
    const total = Number(button.dataset.count);
    document.getElementById("units-title").textContent =
      data.themes[theme] + " · " + data.rounds[round].name + " (" + total + "건)";
    document.getElementById("units-more").textContent = total > units.length
      ? "처음 " + units.length + "건만 표시합니다. 전체는 archive 파일에서 SQL로 조회하세요." : "";
    list.replaceChildren();
    units.forEach(u => {
      const li = document.createElement("li");
      li.dataset.rec = u[2];
      const text = document.createElement("div");
      text.textContent = u[6];
      const meta = document.createElement("div");
      meta.className = "meta";
      meta.textContent = [u[3], u[4], u[5], u[7] ? "사업 " + u[7] : "", u[2]].filter(Boolean).join(" · ");
      li.append(text, meta);
      list.append(li);
    });
    document.getElementById("shown-count").textContent = String(units.length);
  }
  document.querySelectorAll("button.cell").forEach(b => b.addEventListener("click", () => show(b)));
})();
