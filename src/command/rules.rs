//! `sprawl rules list|check`: the rule set in, a listing or the problems of its examples out.

use std::io::{self, Write};

use anyhow::Result;

use super::{load_rules, EXIT_CLEAN, EXIT_FINDINGS};
use crate::{cli::RulesCommand, config::ConfigFile, rules::check};

pub fn rules(cmd: RulesCommand) -> Result<i32> {
    match cmd {
        RulesCommand::List { rules } => {
            let set = load_rules(&ConfigFile::default(), &rules)?;
            let mut out = io::stdout().lock();
            writeln!(
                out,
                "{:<36} {:<14} {:<18} {:<9} title",
                "id", "provider", "kind", "severity"
            )?;
            for r in &set.rules {
                writeln!(
                    out,
                    "{:<36} {:<14} {:<18} {:<9} {}",
                    r.id,
                    r.provider,
                    r.kind.as_str(),
                    r.severity.as_str(),
                    r.title
                )?;
            }
            Ok(EXIT_CLEAN)
        }
        RulesCommand::Check { rules } => {
            let set = load_rules(&ConfigFile::default(), &rules)?;
            let report = check::run(&set);
            let problems = &report.problems;
            for p in problems {
                eprintln!("problem: {p}");
            }
            if problems.is_empty() {
                println!(
                    "{} rules ok ({} examples checked through the matcher; {} (rule, context) pairs, {} (example, context) placements in {} file-format contexts, {} skipped, {} pending known gaps)",
                    set.len(),
                    report.examples,
                    report.rule_context_pairs(),
                    report.context_checks,
                    check::contexts().len(),
                    report.context_skips,
                    report.context_pending
                );
                Ok(EXIT_CLEAN)
            } else {
                eprintln!("{} problem(s) in {} rules", problems.len(), set.len());
                Ok(EXIT_FINDINGS)
            }
        }
    }
}
