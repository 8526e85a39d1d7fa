//! The run as JUnit XML (`--report-junit FILE`), the format CI servers read: one `<testsuite>` per
//! suite (aisp, cbpii, pisp), one `<testcase>` per case named by its id and title, `<failure>` with
//! what was expected, what came and the evidence, `<skipped>` with the reason, and the evidence of
//! every case in `<system-out>`.

use super::cases::Verdict;
use super::report::{Counts, Report};
use std::fmt::Write as _;

/// Text made safe inside XML attributes and elements (characters XML 1.0 forbids are dropped).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

pub fn render(report: &Report) -> String {
    let all = report.counts();
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        xml,
        "<testsuites name=\"stet-tpp conformance\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{:.3}\">",
        all.total(),
        all.failed,
        all.skipped,
        report.seconds()
    );
    for suite in &report.suites {
        let outcomes: Vec<_> = report.of_suite(*suite).collect();
        let counts = Counts::of(outcomes.iter().copied());
        let seconds: f64 = outcomes.iter().map(|o| o.seconds).sum();
        let _ = writeln!(
            xml,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"0\" skipped=\"{}\" time=\"{seconds:.3}\" timestamp=\"{}\">",
            suite.name(),
            counts.total(),
            counts.failed,
            counts.skipped,
            escape(&report.started)
        );
        xml.push_str("    <properties>\n");
        for (name, value) in
            [("bank", &report.url), ("profile", &report.profile), ("tpp", &report.tpp), ("version", &report.version)]
        {
            let _ = writeln!(xml, "      <property name=\"{name}\" value=\"{}\"/>", escape(value));
        }
        xml.push_str("    </properties>\n");
        for outcome in outcomes {
            let case = &outcome.case;
            let _ = writeln!(
                xml,
                "    <testcase classname=\"stet-tpp.conformance.{}\" name=\"{}\" time=\"{:.3}\">",
                suite.name(),
                escape(&format!("{} {}", case.id, case.title)),
                outcome.seconds
            );
            let evidence = outcome.evidence_lines().join("\n");
            match &outcome.verdict {
                Verdict::Fail { expected, got } => {
                    let message = format!("expected {expected}; got {got}");
                    let body = format!("{}\nbehaviour: {} ({})\n{evidence}", message, case.behaviour, case.published);
                    let _ = writeln!(
                        xml,
                        "      <failure type=\"conformance\" message=\"{}\">{}</failure>",
                        escape(&message),
                        escape(&body)
                    );
                }
                Verdict::Skip(why) => {
                    let _ = writeln!(xml, "      <skipped message=\"{}\"/>", escape(why));
                }
                Verdict::Pass(_) => {}
            }
            if !evidence.is_empty() {
                let _ = writeln!(xml, "      <system-out>{}</system-out>", escape(&evidence));
            }
            xml.push_str("    </testcase>\n");
        }
        xml.push_str("  </testsuite>\n");
    }
    xml.push_str("</testsuites>\n");
    xml
}

#[cfg(test)]
mod tests {
    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(super::escape("a<b>&\"c'\u{1}\n"), "a&lt;b&gt;&amp;&quot;c&apos;\n");
    }
}
