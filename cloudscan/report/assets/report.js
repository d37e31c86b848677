// Filters for the findings of a cloudscan report: by severity, status, provider (and change
// since a baseline), and by text in a resource's name or id. The state lives in the fragment
// (#severity=critical&status=FAIL), so a filtered view can be shared as a link. The script
// reads its data from the JSON block and writes text only (textContent), never markup.
"use strict";
(() => {
  const data = JSON.parse(document.getElementById("report-data").textContent);
  const form = document.getElementById("filters");
  const shown = document.getElementById("shown");
  const noMatch = document.getElementById("no-match");
  const dims = Object.keys(data.dims);
  const rows = data.rows.map((facts, index) => ({ facts, el: document.getElementById("r" + index) }));
  const policies = Array.from(document.querySelectorAll("article.policy"));

  // A fragment without "=" is an ordinary anchor (#findings, #r12): it leaves the filters alone.
  const isFilter = (hash) => hash.includes("=");

  function stateFromFragment() {
    const text = location.hash.slice(1);
    const params = new URLSearchParams(isFilter(text) ? text : "");
    const state = { q: (params.get("q") || "").trim().toLowerCase() };
    for (const dim of dims) {
      const { values, default: chosen } = data.dims[dim];
      if (params.has(dim)) {
        const asked = params.get(dim).split(",").map((v) => v.trim().toLowerCase());
        state[dim] = new Set(values.filter((v) => asked.includes(v.toLowerCase())));
      } else {
        state[dim] = new Set(chosen);
      }
    }
    return state;
  }

  function fragmentOf(state) {
    const parts = [];
    for (const dim of dims) {
      const { values, default: chosen } = data.dims[dim];
      const picked = values.filter((v) => state[dim].has(v));
      const same = picked.length === chosen.length && picked.every((v) => chosen.includes(v));
      if (!same) parts.push(dim + "=" + picked.map(encodeURIComponent).join(","));
    }
    if (state.q) parts.push("q=" + encodeURIComponent(state.q));
    return parts.join("&");
  }

  function stateFromForm() {
    const state = { q: form.elements.q.value.trim().toLowerCase() };
    for (const dim of dims) {
      const boxes = form.querySelectorAll("input[type=checkbox][name=" + dim + "]");
      state[dim] = new Set(Array.from(boxes).filter((box) => box.checked).map((box) => box.value));
    }
    return state;
  }

  function showInForm(state) {
    for (const box of form.querySelectorAll("input[type=checkbox]")) {
      box.checked = state[box.name].has(box.value);
    }
    form.elements.q.value = state.q;
  }

  function apply(state) {
    let count = 0;
    for (const row of rows) {
      const visible =
        dims.every((dim) => state[dim].has(row.facts[dim])) && (!state.q || row.facts.text.includes(state.q));
      row.el.hidden = !visible;
      if (visible) count += 1;
    }
    for (const policy of policies) {
      policy.hidden = policy.querySelector("tr.finding:not([hidden])") === null;
    }
    shown.textContent = "Showing " + count + " of " + rows.length + " results.";
    shown.dataset.shown = String(count);
    noMatch.hidden = count > 0;
  }

  function fromForm() {
    const state = stateFromForm();
    apply(state);
    const fragment = fragmentOf(state);
    history.replaceState(null, "", fragment ? "#" + fragment : location.pathname + location.search);
  }

  function fromFragment() {
    const state = stateFromFragment();
    showInForm(state);
    apply(state);
  }

  form.addEventListener("change", fromForm);
  form.addEventListener("input", fromForm);
  form.addEventListener("submit", (event) => event.preventDefault());
  document.getElementById("show-all").addEventListener("click", () => {
    for (const box of form.querySelectorAll("input[type=checkbox]")) box.checked = true;
    form.elements.q.value = "";
    fromForm();
  });
  window.addEventListener("hashchange", () => {
    if (isFilter(location.hash)) fromFragment();
  });

  form.hidden = false;
  fromFragment();
  if (isFilter(location.hash)) document.getElementById("findings").scrollIntoView();
})();
