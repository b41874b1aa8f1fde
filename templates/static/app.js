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
