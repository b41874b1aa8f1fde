// Progressive enhancement only: every control works without JavaScript.
document.addEventListener("DOMContentLoaded", () => {
  document.documentElement.classList.add("js");
  for (const select of document.querySelectorAll("select[data-autosubmit]")) {
    select.addEventListener("change", () => select.form.submit());
  }
});

// --- Researcher experience (issue 16 part B): facets, copy buttons --------------------------------
document.addEventListener("DOMContentLoaded", () => {
  // Long facet lists fold after eight values; the button's labels come translated from the page.
  for (const list of document.querySelectorAll(".facet ul[data-more-label]")) {
    const hidden = list.querySelectorAll("li.more");
    if (hidden.length === 0) continue;
    list.classList.add("collapsed");
    const button = document.createElement("button");
    button.type = "button";
    button.className = "more-toggle";
    button.textContent = list.dataset.moreLabel;
    button.setAttribute("aria-expanded", "false");
    button.addEventListener("click", () => {
      const open = list.classList.toggle("collapsed") === false;
      button.setAttribute("aria-expanded", String(open));
      button.textContent = open ? list.dataset.fewerLabel : list.dataset.moreLabel;
    });
    list.after(button);
  }
  // A facet value is a link with the checkbox role: Space toggles it, as it would a checkbox.
  for (const box of document.querySelectorAll('a[role="checkbox"]')) {
    box.addEventListener("keydown", (event) => {
      if (event.key === " ") {
        event.preventDefault();
        box.click();
      }
    });
  }
  // After a facet was toggled the page reloads at its fragment: give the focus back to that value
  // (unfolding its list if needed) and announce the new number of results.
  const id = decodeURIComponent(location.hash.slice(1));
  const chosen = id.startsWith("f-") ? document.getElementById(id) : null;
  if (chosen && chosen.matches('a[role="checkbox"]')) {
    const list = chosen.closest("ul.collapsed");
    if (list && chosen.closest("li.more")) list.nextElementSibling?.click();
    chosen.focus();
    const status = document.getElementById("facet-announce");
    const heading = document.getElementById("results-heading");
    if (status && heading) {
      // set after a pause: a live region filled while the page loads is not announced
      setTimeout(() => { status.textContent = heading.textContent.replace(/\s+/g, " ").trim(); }, 300);
    }
  }
  // Copy buttons of the citation box, shown only where the clipboard can be written.
  const copyStatus = document.getElementById("copy-status");
  for (const button of document.querySelectorAll("button.copy[data-copy]")) {
    if (!navigator.clipboard) continue;
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      const text = "value" in source ? source.value : source.textContent.replace(/\s+/g, " ").trim();
      try {
        await navigator.clipboard.writeText(text);
        copyStatus.textContent = copyStatus.dataset.copied;
      } catch {
        copyStatus.textContent = copyStatus.dataset.failed;
      }
    });
  }
});

// ---- Charts and the phone (issue 16 part A) ----
// The phone's "Filters (n selected)" link becomes a disclosure button; a filter chosen while the
// filters are open reopens them on the next page (the link carries #filters, or the facet value's own
// #f-... fragment, to which the focus returns: the filters must then be open to show it).
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
  setOpen(window.location.hash === "#filters" || window.location.hash.startsWith("#f-"));
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
