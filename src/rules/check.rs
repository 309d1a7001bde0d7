//! `sprawl rules check`: a `RuleSet` in, a list of problems out. Every example goes through
//! the whole pipeline (prefilter, regex, entropy, checksum, placeholders, overlap resolution)
//! and must be reported by its own rule; no negative example may be reported by it.

use std::collections::HashSet;

use super::{
    template::{expand, Rng},
    RuleSet,
};
use crate::matcher::{compile_all, Matcher, Scratch};

/// The expanded text of example `i` of rule `id` (positive or negative).
pub fn example_text(id: &str, i: usize, negative: bool, template: &str) -> String {
    let seed = format!("{id}#{}{i}", if negative { "neg" } else { "pos" });
    expand(template, &mut Rng::from_str_seed(&seed))
}

/// Every problem with the rule set, one line each; empty when all is well.
pub fn check(set: &RuleSet) -> Vec<String> {
    let mut problems = Vec::new();
    let mut ids = HashSet::new();
    for r in &set.rules {
        if !ids.insert(r.id.as_str()) {
            problems.push(format!("{}: duplicate rule id `{}`", r.origin, r.id));
        }
    }
    problems.extend(super::validator::problems(set));
    let matcher = match Matcher::new(set).and_then(|m| compile_all(&m).map(|_| m)) {
        Ok(m) => m,
        Err(e) => {
            problems.push(format!("{e:#}"));
            return problems;
        }
    };
    let mut scratch = Scratch::default();
    for (idx, rule) in set.rules.iter().enumerate() {
        let at = format!("{} ({})", rule.id, rule.origin);
        if rule.examples.len() < 2 {
            problems.push(format!("{at}: needs at least 2 examples"));
        }
        if rule.negative_examples.is_empty() {
            problems.push(format!("{at}: needs at least 1 negative example"));
        }
        let expanded: Vec<String> = rule
            .examples
            .iter()
            .enumerate()
            .map(|(i, t)| example_text(&rule.id, i, false, t))
            .collect();
        for kw in &rule.keywords {
            let lower = kw.to_ascii_lowercase();
            if !expanded
                .iter()
                .any(|e| e.to_ascii_lowercase().contains(&lower))
            {
                problems.push(format!("{at}: no example contains keyword `{kw}`"));
            }
        }
        for (i, text) in expanded.iter().enumerate() {
            let found = matcher.scan(text.as_bytes(), &mut scratch);
            if !found.iter().any(|m| m.rule == idx) {
                let others: Vec<&str> = found
                    .iter()
                    .map(|m| matcher.rule(m.rule).id.as_str())
                    .collect();
                let by = if others.is_empty() {
                    String::new()
                } else {
                    format!(" (reported by {} instead)", others.join(", "))
                };
                problems.push(format!("{at}: example {i} not found{by}"));
            }
        }
        for (i, t) in rule.negative_examples.iter().enumerate() {
            let text = example_text(&rule.id, i, true, t);
            let found = matcher.scan(text.as_bytes(), &mut scratch);
            if found.iter().any(|m| m.rule == idx) {
                problems.push(format!("{at}: negative example {i} is reported"));
            }
        }
    }
    problems
}
