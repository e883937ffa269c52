"""The report page as the service serves it: the published `report/insights.html`, unchanged on
disk, with a small script and style added to the copy it sends.

The script (plain JavaScript, no library) adds "Helpful", "Not helpful" and "Dismiss" buttons
and a note field to every insight, a question box above the boards (`POST /api/ask`, the answer
written with `textContent`), and polls `/api/version` (a conditional request answered
304 while nothing changed); when the published files change it fetches the page again, parses
it with DOMParser and swaps the header and `<main>` in place, keeping the scroll position and
the opened healthy findings: no reload, no flicker. It writes text only through `textContent`
(the Jira text on the page was escaped when the report was rendered, and the swapped-in page is
the server's own rendering). Dismissed insights are hidden by a style rule the server writes
into `<main>`, so they never show, not even for a frame, and a swapped page brings its own.

The static file stays what it is, a standalone page with no script that loads nothing.
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterable

from jira_insights_pipeline.ask import MAX_QUESTION_CHARS
from jira_insights_pipeline.service.feedback import NOTE_MAX_CHARS

CONFIG_ELEMENT_ID = "jira-insights-service-config"
HIDDEN_STYLE_ID = "jira-insights-hidden"

SERVICE_STYLE = """<style id="jira-insights-service-style">
  .feedback { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; margin-top: 8px; }
  .feedback button { font: inherit; font-size: 13px; padding: 2px 10px; border-radius: 4px;
                     border: 1px solid var(--line); background: var(--card); color: var(--ink);
                     cursor: pointer; }
  .feedback button:hover, .feedback button:focus-visible { border-color: var(--accent); }
  .feedback input { font: inherit; font-size: 13px; padding: 2px 6px; flex: 1 1 12em;
                    min-width: 8em; border: 1px solid var(--line); border-radius: 4px; }
  .feedback-status { font-size: 13px; color: var(--muted); }
  form.ask { max-width: 1120px; margin: 16px auto 0; padding: 0 40px; display: flex;
             flex-wrap: wrap; gap: 8px; }
  form.ask input { font: inherit; flex: 1 1 20em; padding: 6px 10px; border: 1px solid var(--line);
                   border-radius: 6px; }
  form.ask button { font: inherit; padding: 6px 14px; border-radius: 6px; cursor: pointer;
                    border: 1px solid var(--accent); background: var(--accent); color: #fff; }
  .ask-answer { flex-basis: 100%; }
  .ask-answer p { margin: 4px 0; }
  .ask-why { font-size: 13px; color: var(--muted); }
  @media (max-width: 600px) { form.ask { padding: 0 14px; } }
  @media print { form.ask { display: none; } }
  @media print { .feedback { display: none; } }
</style>
"""

SERVICE_SCRIPT = """(() => {
  "use strict";
  const config = JSON.parse(document.getElementById("__CONFIG_ID__").textContent);
  // Read by the browser test: survives an in-place refresh, would not survive a reload.
  const state = (window.jiraInsightsService = {
    version: config.version, refreshes: 0, feedbackSent: 0,
  });
  const VERDICTS = [["helpful", "Helpful"], ["not_helpful", "Not helpful"], ["dismiss", "Dismiss"]];

  function decorate(root) {
    for (const article of root.querySelectorAll("article.insight")) {
      if (article.querySelector(".feedback")) continue;
      const box = document.createElement("div");
      box.className = "feedback";
      const note = document.createElement("input");
      note.type = "text";
      note.maxLength = config.noteMaxChars;
      note.placeholder = "Note (optional)";
      note.setAttribute("aria-label", "Note about this insight (optional)");
      const status = document.createElement("span");
      status.className = "feedback-status";
      status.setAttribute("role", "status");
      for (const [verdict, label] of VERDICTS) {
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = label;
        button.dataset.verdict = verdict;
        button.addEventListener("click", () => send(article, verdict, note, status));
        box.append(button);
      }
      box.append(note, status);
      article.append(box);
    }
  }

  async function send(article, verdict, note, status) {
    status.textContent = "Saving…";
    try {
      const response = await fetch(
        "/api/insights/" + encodeURIComponent(article.id) + "/feedback",
        {
          method: "POST",
          headers: {"Content-Type": "application/json"},
          body: JSON.stringify({verdict: verdict, note: note.value}),
        },
      );
      if (!response.ok) {
        let detail = "HTTP " + response.status;
        try {
          const body = await response.json();
          if (typeof body.detail === "string") detail = body.detail;
        } catch (ignored) { /* not JSON: keep the status code */ }
        status.textContent = "Not saved: " + detail;
        return;
      }
      state.feedbackSent += 1;
      note.value = "";
      if (verdict === "dismiss") {
        article.hidden = true;
      } else {
        status.textContent = verdict === "helpful" ? "Saved: helpful." : "Saved: not helpful.";
      }
    } catch (error) {
      status.textContent = "Not saved: the service did not answer.";
    }
  }

  async function refresh() {
    const response = await fetch("/", {cache: "no-store"});
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), "text/html");
    const newMain = fresh.querySelector("main");
    const oldMain = document.querySelector("main");
    const freshConfig = fresh.getElementById("__CONFIG_ID__");
    if (!newMain || !oldMain || !freshConfig) return;
    const opened = new Set(
      Array.from(oldMain.querySelectorAll("section.board details[open]"),
                 (details) => details.closest("section").id),
    );
    const main = document.adoptNode(newMain);
    decorate(main);
    for (const details of main.querySelectorAll("section.board details")) {
      if (opened.has(details.closest("section").id)) details.open = true;
    }
    const x = window.scrollX;
    const y = window.scrollY;
    const newHeader = fresh.querySelector("header");
    const oldHeader = document.querySelector("header");
    // Both swaps and the scroll happen in one task: the browser paints only the result.
    if (newHeader && oldHeader) oldHeader.replaceWith(document.adoptNode(newHeader));
    oldMain.replaceWith(main);
    document.title = fresh.title;
    window.scrollTo(x, y);
    state.version = JSON.parse(freshConfig.textContent).version;
    state.refreshes += 1;
  }

  async function poll() {
    try {
      const response = await fetch("/api/version", {
        cache: "no-store", headers: {"If-None-Match": '"' + state.version + '"'},
      });
      if (response.status === 200) {
        const body = await response.json();
        if (body.version !== state.version) await refresh();
      }
    } catch (error) {
      /* The service is restarting or the network is down: try again at the next tick. */
    } finally {
      window.setTimeout(poll, config.pollSeconds * 1000);
    }
  }

  // The question box: outside <main>, so an in-place refresh keeps what was asked.
  function questionBox() {
    const form = document.createElement("form");
    form.className = "ask";
    form.setAttribute("role", "search");
    const input = document.createElement("input");
    input.type = "text";
    input.maxLength = config.questionMaxChars;
    input.placeholder = "Ask, e.g. why is MOB slowing down?";
    input.setAttribute("aria-label", "A question about the boards");
    const button = document.createElement("button");
    button.type = "submit";
    button.textContent = "Ask";
    const out = document.createElement("div");
    out.className = "ask-answer";
    out.setAttribute("aria-live", "polite");
    form.append(input, button, out);
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      out.textContent = "Thinking…";
      try {
        const response = await fetch("/api/ask", {
          method: "POST", headers: {"Content-Type": "application/json"},
          body: JSON.stringify({question: input.value}),
        });
        const body = await response.json();
        out.textContent = "";
        if (!response.ok) {
          const detail = typeof body.detail === "string" ? body.detail : "";
          out.textContent = detail || "Not a question I can take.";
          return;
        }
        const title = document.createElement("strong");
        title.textContent = body.answered ? body.title : body.message;
        const text = document.createElement("p");
        text.textContent = body.answered ? body.message : (body.examples || []).join(" ");
        const why = document.createElement("p");
        why.className = "ask-why";
        if (body.answered) {
          why.textContent = "From the " + body.analysis.use_case_label.toLowerCase() +
            " analysis of " + body.analysis.board.name + " (" + body.chosen_because + "). ";
          const link = document.createElement("a");
          link.href = "#" + body.analysis.insight_id;
          link.textContent = "Show the insight";
          why.append(link);
        }
        out.append(title, text, why);
        state.answers = (state.answers || 0) + 1;
      } catch (error) {
        out.textContent = "The service did not answer.";
      }
    });
    const main = document.querySelector("main");
    if (main) main.before(form);
  }

  decorate(document);
  questionBox();
  window.setTimeout(poll, config.pollSeconds * 1000);
})();
""".replace("__CONFIG_ID__", CONFIG_ELEMENT_ID)

# For the Content-Security-Policy: the one inline script the served page may run.
SCRIPT_HASH = (
    "sha256-" + base64.b64encode(hashlib.sha256(SERVICE_SCRIPT.encode()).digest()).decode()
)
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; "
    f"script-src '{SCRIPT_HASH}'; "
    "style-src 'unsafe-inline'; img-src data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def _json_for_script(value: object) -> str:
    """JSON that cannot close the <script> element holding it."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def hidden_style(insight_ids: Iterable[str]) -> str:
    """The style rule hiding the dismissed insights. The ids come from the validated feed
    (`<use case>-<16 hex>`), so they are safe in a CSS attribute selector."""
    selectors = ",\n".join(f'main article.insight[id="{i}"]' for i in sorted(insight_ids))
    body = f"{selectors} {{ display: none; }}\n" if selectors else ""
    return f'<style id="{HIDDEN_STYLE_ID}">\n{body}</style>\n'


def served_page(
    page: str, *, version: str, hidden_insight_ids: Iterable[str], poll_seconds: float
) -> str:
    """The published page with the service's style, its dismissed insights hidden, its
    configuration and its script. A page without the expected tags (not the pipeline's own)
    gets them appended rather than refused."""
    config = {
        "version": version,
        "pollSeconds": poll_seconds,
        "noteMaxChars": NOTE_MAX_CHARS,
        "questionMaxChars": MAX_QUESTION_CHARS,
    }
    tail = (
        f'<script type="application/json" id="{CONFIG_ELEMENT_ID}">'
        f"{_json_for_script(config)}</script>\n<script>{SERVICE_SCRIPT}</script>\n"
    )
    page = _insert_before(page, "</head>", SERVICE_STYLE)
    page = _insert_after(page, "<main>", "\n" + hidden_style(hidden_insight_ids))
    return _insert_before(page, "</body>", tail)


def _insert_before(page: str, tag: str, text: str) -> str:
    at = page.rfind(tag)
    return page + text if at < 0 else page[:at] + text + page[at:]


def _insert_after(page: str, tag: str, text: str) -> str:
    at = page.find(tag)
    return page + text if at < 0 else page[: at + len(tag)] + text + page[at + len(tag) :]
