//! The outcome of a run and its text form on stdout: a header naming the bank, the profile and the
//! TPP; per case PASS, FAIL or SKIP with its evidence (each request's X-Request-ID, status and body
//! excerpt) and, for a failure, what was expected and what came; then the counts and the failed
//! cases by id.

use super::cases::{Case, Suite, Verdict};
use super::exchange::Exchange;
use std::fmt::Write as _;

/// One case's outcome.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub case: Case,
    pub verdict: Verdict,
    pub evidence: Vec<Exchange>,
    pub seconds: f64,
}

impl Outcome {
    pub fn word(&self) -> &'static str {
        match self.verdict {
            Verdict::Pass(_) => "PASS",
            Verdict::Fail { .. } => "FAIL",
            Verdict::Skip(_) => "SKIP",
        }
    }

    /// The evidence lines.
    pub fn evidence_lines(&self) -> Vec<String> {
        self.evidence.iter().map(Exchange::evidence).collect()
    }
}

/// A whole run.
#[derive(Debug, Clone)]
pub struct Report {
    pub url: String,
    pub profile: String,
    pub tpp: String,
    pub version: String,
    /// When the run started (RFC 3339).
    pub started: String,
    pub suites: Vec<Suite>,
    pub outcomes: Vec<Outcome>,
}

/// Passed, failed and skipped cases.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Counts {
    pub fn of<'a>(outcomes: impl IntoIterator<Item = &'a Outcome>) -> Counts {
        let mut counts = Counts::default();
        for outcome in outcomes {
            match outcome.verdict {
                Verdict::Pass(_) => counts.passed += 1,
                Verdict::Fail { .. } => counts.failed += 1,
                Verdict::Skip(_) => counts.skipped += 1,
            }
        }
        counts
    }

    pub fn total(self) -> usize {
        self.passed + self.failed + self.skipped
    }
}

impl Report {
    pub fn counts(&self) -> Counts {
        Counts::of(&self.outcomes)
    }

    pub fn of_suite(&self, suite: Suite) -> impl Iterator<Item = &Outcome> {
        self.outcomes.iter().filter(move |o| o.case.suite == suite)
    }

    pub fn seconds(&self) -> f64 {
        self.outcomes.iter().map(|o| o.seconds).sum()
    }

    /// The header printed before the first case.
    pub fn header(&self) -> String {
        format!(
            "stet-tpp conformance\n  bank     {}\n  profile  {}\n  TPP      {}, STET {}, started {}\n",
            self.url, self.profile, self.tpp, self.version, self.started
        )
    }

    /// The last lines: the counts and the failed cases.
    pub fn summary(&self) -> String {
        let counts = self.counts();
        let mut out = format!(
            "\n{} cases: {} passed, {} failed, {} skipped\n",
            counts.total(),
            counts.passed,
            counts.failed,
            counts.skipped
        );
        for outcome in self.outcomes.iter().filter(|o| matches!(o.verdict, Verdict::Fail { .. })) {
            let _ = writeln!(out, "FAILED {} {}", outcome.case.id, outcome.case.title);
        }
        out
    }
}

/// A suite's heading in the text.
pub fn suite_heading(suite: Suite) -> String {
    format!("\n{}\n", suite.name().to_ascii_uppercase())
}

/// One case in the text.
pub fn block(outcome: &Outcome) -> String {
    let case = &outcome.case;
    let mut out = format!("{}  {:<6}  {}", outcome.word(), case.id, case.title);
    match &outcome.verdict {
        Verdict::Pass(note) if !note.is_empty() => {
            let _ = write!(out, ": {note}");
        }
        Verdict::Skip(why) => {
            let _ = write!(out, ": {why}");
        }
        _ => {}
    }
    out.push('\n');
    if let Verdict::Fail { expected, got } = &outcome.verdict {
        let _ = writeln!(out, "      expected:  {expected}");
        let _ = writeln!(out, "      got:       {got}");
        let _ = writeln!(out, "      behaviour: {} ({})", case.behaviour, case.published);
    }
    for line in outcome.evidence_lines() {
        let _ = writeln!(out, "      {line}");
    }
    out
}
