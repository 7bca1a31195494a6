// Progressive enhancement of the search page. Without it the page still works:
// the form submits with GET and every link is a plain link.
// 1. Autocomplete on the search box (ARIA 1.2 combobox with a listbox popup).
// 2. Filters and sort apply on change.
// 3. Results are fetched and swapped in place; the URL and the back button keep working.
// 4. On phones the filter panel stays open while boxes are ticked; "Xem N kết quả" closes it.
(function () {
  "use strict";

  const form = document.getElementById("search-form");
  const input = document.getElementById("q");
  const list = document.getElementById("q-suggestions");
  if (!form || !input || !list) return;

  const NARROW = window.matchMedia("(max-width: 48rem)");
  let options = [];
  let active = -1;
  let timer = 0;
  let controller = null;

  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", list.id);

  // Rebuild suggestion HTML keeping only text and <mark>: never trust markup from the network.
  function markedFragment(html) {
    const parsed = new DOMParser().parseFromString("<body>" + html, "text/html");
    const fragment = document.createDocumentFragment();
    function copy(from, into) {
      from.childNodes.forEach(function (child) {
        if (child.nodeType === Node.TEXT_NODE) {
          into.appendChild(document.createTextNode(child.textContent));
        } else if (child.nodeType === Node.ELEMENT_NODE) {
          if (child.tagName === "MARK") {
            const mark = document.createElement("mark");
            copy(child, mark);
            into.appendChild(mark);
          } else {
            copy(child, into);
          }
        }
      });
    }
    copy(parsed.body, fragment);
    return fragment;
  }

  function closeList() {
    list.hidden = true;
    list.replaceChildren();
    options = [];
    active = -1;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function setActive(index) {
    active = index;
    Array.from(list.children).forEach(function (item, i) {
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    if (index >= 0) {
      const item = list.children[index];
      input.setAttribute("aria-activedescendant", item.id);
      item.scrollIntoView({ block: "nearest" });
    } else {
      input.removeAttribute("aria-activedescendant");
    }
  }

  function choose(index) {
    input.value = options[index].text;
    closeList();
    form.requestSubmit();
  }

  function render(suggestions) {
    if (!suggestions.length) {
      closeList();
      return;
    }
    options = suggestions;
    active = -1;
    list.replaceChildren();
    suggestions.forEach(function (suggestion, i) {
      const item = document.createElement("li");
      item.id = "q-option-" + i;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      item.appendChild(markedFragment(suggestion.html));
      // mousedown would blur the input and close the list before the click lands.
      item.addEventListener("mousedown", function (event) { event.preventDefault(); });
      item.addEventListener("click", function () { choose(i); });
      list.appendChild(item);
    });
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.removeAttribute("aria-activedescendant");
  }

  async function fetchSuggestions() {
    const typed = input.value;
    if (!typed.trim()) {
      closeList();
      return;
    }
    if (controller) controller.abort();
    controller = new AbortController();
    try {
      const response = await fetch("/api/suggest?q=" + encodeURIComponent(typed), {
        signal: controller.signal,
        headers: { Accept: "application/json" },
      });
      if (!response.ok) {
        closeList();
        return;
      }
      const data = await response.json();
      if (input.value === typed && document.activeElement === input) render(data.suggestions || []);
    } catch (error) {
      if (error.name !== "AbortError") closeList();
    }
  }

  input.addEventListener("input", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(fetchSuggestions, 120);
  });

  input.addEventListener("keydown", function (event) {
    const open = !list.hidden && options.length > 0;
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (open) setActive((active + 1) % options.length);
      else fetchSuggestions();
    } else if (event.key === "ArrowUp") {
      if (open) {
        event.preventDefault();
        setActive(active <= 0 ? options.length - 1 : active - 1);
      }
    } else if (event.key === "Enter") {
      if (open && active >= 0) {
        event.preventDefault();
        choose(active);
      } else {
        closeList();
      }
    } else if (event.key === "Escape") {
      if (open) {
        event.preventDefault();
        closeList();
      }
    } else if (event.key === "Tab") {
      closeList();
    }
  });

  input.addEventListener("blur", closeList);

  // ---- Results swapped in place ----

  function formUrl() {
    const params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      // Leave out empty fields and the default sort, for short shareable URLs.
      if (String(value).trim() === "" || (key === "sort" && value === "relevance")) return;
      params.append(key, value);
    });
    const query = params.toString();
    return "/" + (query ? "?" + query : "");
  }

  // A panel holding a field to correct stays open, so its message is seen.
  function hasInvalidField(filters) {
    return filters.querySelector("[aria-invalid='true']") !== null;
  }

  function collapseFiltersWhenNarrow() {
    const filters = document.getElementById("filters");
    if (filters && NARROW.matches && !hasInvalidField(filters)) filters.open = false;
  }

  // Tell screen readers the new count: the swapped region's own status is not announced.
  function announceCount() {
    const live = document.getElementById("live-status");
    const count = document.getElementById("result-count");
    if (live && count) live.textContent = count.textContent.replace(/\s+/g, " ").trim();
  }

  function showResults() {
    const filters = document.getElementById("filters");
    if (filters) filters.open = false;
    const heading = document.getElementById("results-heading");
    if (heading) {
      heading.setAttribute("tabindex", "-1");
      heading.focus();
      heading.scrollIntoView({ block: "start" });
    }
  }

  // The <head> feed link follows the results shown (the visible one swaps with the region).
  function syncFeedLink(page) {
    const selector = 'head link[rel="alternate"][type="application/atom+xml"]';
    const fresh = page.querySelector(selector);
    const current = document.querySelector(selector);
    if (current) current.remove();
    if (fresh) document.head.appendChild(document.adoptNode(fresh));
  }

  async function navigate(url, push, focusId) {
    const region = document.getElementById("results-region");
    if (!region) {
      window.location.assign(url);
      return;
    }
    const filtersBefore = document.getElementById("filters");
    const filtersOpen = filtersBefore ? filtersBefore.open : false;
    region.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(url, { headers: { Accept: "text/html" } });
      const page = new DOMParser().parseFromString(await response.text(), "text/html");
      const fresh = page.getElementById("results-region");
      if (!fresh) {
        window.location.assign(url);
        return;
      }
      region.replaceWith(document.adoptNode(fresh));
      syncFeedLink(page);
      const filters = document.getElementById("filters");
      if (filters) filters.open = filtersOpen || !NARROW.matches || hasInvalidField(filters);
      document.title = page.title;
      announceCount();
      const freshInput = page.getElementById("q");
      if (freshInput && document.activeElement !== input) input.value = freshInput.value;
      if (push) window.history.pushState({ searchsvc: true }, "", url);
      const target = focusId && document.getElementById(focusId);
      if (target) {
        target.focus();
      } else if (focusId === null) {
        const heading = document.getElementById("results-heading");
        if (heading) {
          heading.setAttribute("tabindex", "-1");
          heading.focus();
        }
      }
    } catch (error) {
      window.location.assign(url);
    }
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    closeList();
    navigate(formUrl(), true, undefined);
  });

  document.addEventListener("change", function (event) {
    const control = event.target;
    if (control.form !== form) return;
    if (control.type === "checkbox" || control.tagName === "SELECT") navigate(formUrl(), true, control.id);
  });

  document.addEventListener("click", function (event) {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) {
      return;
    }
    const link = event.target.closest("a");
    if (!link || !link.closest("#results-region")) return;
    if (link.hasAttribute("data-show-results")) {
      event.preventDefault();
      showResults();
      return;
    }
    const href = link.getAttribute("href") || "";
    if (href === "/" || href.startsWith("/?")) {
      event.preventDefault();
      navigate(href, true, null);
    }
  });

  window.addEventListener("popstate", function () {
    navigate(window.location.pathname + window.location.search, false, undefined);
  });

  // On wide screens the summary is hidden, so the filters must never stay collapsed there.
  NARROW.addEventListener("change", function () {
    const filters = document.getElementById("filters");
    if (filters) filters.open = !NARROW.matches;
  });

  collapseFiltersWhenNarrow();
})();
