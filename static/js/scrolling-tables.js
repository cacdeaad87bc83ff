// A table wider than the screen (or taller than its box) scrolls inside its .table-wrap. People
// without a mouse scroll it with the arrow keys once it can take focus, so each wrap that does
// scroll becomes a named, focusable region; wraps that fit stay out of the tab order.
(() => {
  const MARK = "data-scrolls";

  function name(wrap) {
    const caption = wrap.querySelector("caption");
    const heading = wrap.closest("section")?.querySelector("h1, h2, h3");
    const title = (caption || heading)?.textContent.trim() || "Table";
    return `${title}, scrollable`;
  }

  function mark() {
    for (const wrap of document.querySelectorAll(".table-wrap")) {
      const scrolls =
        wrap.scrollWidth > wrap.clientWidth || wrap.scrollHeight > wrap.clientHeight;
      if (scrolls && !wrap.hasAttribute(MARK)) {
        wrap.setAttribute(MARK, "");
        wrap.setAttribute("tabindex", "0");
        wrap.setAttribute("role", "region");
        wrap.setAttribute("aria-label", name(wrap));
      } else if (!scrolls && wrap.hasAttribute(MARK)) {
        for (const attribute of [MARK, "tabindex", "role", "aria-label"]) {
          wrap.removeAttribute(attribute);
        }
      }
    }
  }

  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
  // Parts of pages that htmx replaces can bring tables of their own.
  document.addEventListener("htmx:afterSettle", mark);
})();
