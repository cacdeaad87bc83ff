// Toasts: the page's messages and the results that arrive in the background (htmx swaps them
// into #messages). Each gets a dismiss button. A success leaves by itself after a while, but
// not while the pointer or the keyboard is on it; errors and warnings stay until dismissed,
// because they ask the reader to do something.
(() => {
  const LINGER_MS = 10000;

  function leaveLater(toast) {
    let timer = null;
    const start = () => {
      clearTimeout(timer);
      timer = setTimeout(() => toast.remove(), LINGER_MS);
    };
    const stop = () => clearTimeout(timer);
    toast.addEventListener("mouseenter", stop);
    toast.addEventListener("focusin", stop);
    toast.addEventListener("mouseleave", start);
    toast.addEventListener("focusout", start);
    start();
  }

  function enhance(toast) {
    if (toast.querySelector(".toast__dismiss")) return;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "toast__dismiss";
    button.setAttribute("aria-label", "Dismiss this message");
    button.textContent = "×";
    button.addEventListener("click", () => toast.remove());
    toast.append(button);
    if (toast.classList.contains("toast--success")) leaveLater(toast);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const region = document.getElementById("messages");
    if (!region) return;
    region.querySelectorAll(".toast").forEach(enhance);
    new MutationObserver(() => region.querySelectorAll(".toast").forEach(enhance)).observe(
      region,
      { childList: true, subtree: true },
    );
  });
})();
