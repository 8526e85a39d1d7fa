//! The run as one self-contained HTML page (`--report-html FILE`): inline style, no script, no
//! external resource, every text from the bank escaped. A table per suite: the case, its verdict,
//! the behaviour it checks and where it is published, and the evidence.

use super::cases::Verdict;
use super::report::Report;
use std::fmt::Write as _;

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:2em;color:#222}\
table{border-collapse:collapse;width:100%;margin-bottom:2em}\
th,td{border:1px solid #ccc;padding:.4em;vertical-align:top;text-align:left}\
th{background:#f3f3f3}.PASS{background:#e8f6e8}.FAIL{background:#fbe3e3}.SKIP{background:#f4f4f4;color:#666}\
pre{white-space:pre-wrap;word-break:break-all;margin:0;font-size:.85em}\
.verdict{font-weight:bold}dl{display:grid;grid-template-columns:max-content auto;gap:.2em 1em}dt{font-weight:bold}";

/// Text made safe inside HTML elements and quoted attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    let counts = report.counts();
    let mut page = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>stet-tpp conformance: {}</title><style>{STYLE}</style></head><body>\n",
        escape(&report.url)
    );
    let _ = writeln!(
        page,
        "<h1>STET conformance: {} passed, {} failed, {} skipped</h1>",
        counts.passed, counts.failed, counts.skipped
    );
    page.push_str("<dl>");
    for (name, value) in [
        ("Bank", &report.url),
        ("Profile", &report.profile),
        ("TPP", &report.tpp),
        ("STET version", &report.version),
        ("Started", &report.started),
    ] {
        let _ = write!(page, "<dt>{name}</dt><dd>{}</dd>", escape(value));
    }
    page.push_str("</dl>\n");
    for suite in &report.suites {
        let _ = writeln!(page, "<h2>{}</h2>", suite.name().to_ascii_uppercase());
        page.push_str(
            "<table><tr><th>Case</th><th>Verdict</th><th>Bank behaviour (published in)</th><th>Evidence</th></tr>\n",
        );
        for outcome in report.of_suite(*suite) {
            let case = &outcome.case;
            let detail = match &outcome.verdict {
                Verdict::Pass(note) => note.clone(),
                Verdict::Fail { expected, got } => format!("expected: {expected}\ngot: {got}"),
                Verdict::Skip(why) => why.clone(),
            };
            let _ = writeln!(
                page,
                "<tr class=\"{word}\"><td><b>{id}</b> {title}</td><td><span class=\"verdict\">{word}</span><pre>{detail}</pre></td><td>{behaviour} <i>({published})</i></td><td><pre>{evidence}</pre></td></tr>",
                word = outcome.word(),
                id = escape(case.id),
                title = escape(case.title),
                detail = escape(&detail),
                behaviour = escape(case.behaviour),
                published = escape(case.published),
                evidence = escape(&outcome.evidence_lines().join("\n")),
            );
        }
        page.push_str("</table>\n");
    }
    page.push_str("</body></html>\n");
    page
}

#[cfg(test)]
mod tests {
    #[test]
    fn text_from_the_bank_cannot_become_markup() {
        assert_eq!(
            super::escape("<script>alert('x')</script>&"),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&amp;"
        );
    }
}
