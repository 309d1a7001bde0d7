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
            let problems = check::check(&set);
            for p in &problems {
                eprintln!("problem: {p}");
            }
            let examples: usize = set
                .rules
                .iter()
                .map(|r| r.examples.len() + r.negative_examples.len())
                .sum();
            if problems.is_empty() {
                println!(
                    "{} rules ok ({} examples checked through the matcher)",
                    set.len(),
                    examples
                );
                Ok(EXIT_CLEAN)
            } else {
                eprintln!("{} problem(s) in {} rules", problems.len(), set.len());
                Ok(EXIT_FINDINGS)
            }
        }
    }
}
