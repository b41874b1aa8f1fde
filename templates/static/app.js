// Progressive enhancement only: every control works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
  for (const list of document.querySelectorAll(".facet ul")) {
    const hidden = list.querySelectorAll("li.more");
    if (hidden.length === 0) continue;
    list.classList.add("collapsed");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "more-toggle";
    button.textContent = `Show ${hidden.length} more`;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => {
      const open = list.classList.toggle("collapsed") === false;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? "Show fewer" : `Show ${hidden.length} more`;
    });
    list.after(button);
  }
});

// ---- Charts and the phone (issue 16 part A) ----
// The phone's "Filters (n selected)" link becomes a disclosure button; a filter chosen while the
// filters are open reopens them on the next page (the link carries #filters).
document.addEventListener("DOMContentLoaded", () => {
  const link = document.getElementById("filters-toggle");
  const panel = document.getElementById("filters");
  if (!link || !panel) return;
  const layout = panel.parentElement;
  link.setAttribute("role", "button");
  const setOpen = (open) => {
    layout.classList.toggle("filters-open", open);
    link.setAttribute("aria-expanded", String(open));
  };
  setOpen(window.location.hash === "#filters");
  link.addEventListener("click", (event) => {
    event.preventDefault();
    const open = link.getAttribute("aria-expanded") !== "true";
    setOpen(open);
    history.replaceState(null, "", open ? "#filters" : window.location.pathname + window.location.search);
    if (open) panel.focus({ preventScroll: false });
  });
  panel.setAttribute("tabindex", "-1");
  panel.addEventListener("click", (event) => {
    const a = event.target.closest("a[href]");
    if (a && layout.classList.contains("filters-open") && !a.hash) a.href += "#filters";
  });
});
