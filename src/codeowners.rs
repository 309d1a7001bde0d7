//! CODEOWNERS (GitHub and GitLab syntax): a repository root in, the owners of a path out.
//! The last matching pattern wins; GitLab `[Section]` headers are skipped.

use std::path::Path;

use globset::{Glob, GlobMatcher};

pub struct CodeOwners {
    rules: Vec<(GlobMatcher, Vec<String>)>,
}

/// Where CODEOWNERS may live, in the order GitHub looks.
const LOCATIONS: &[&str] = &[
    ".github/CODEOWNERS",
    "CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
];

fn to_glob(pattern: &str) -> String {
    let anchored = pattern.starts_with('/');
    let mut p = pattern.trim_start_matches('/').to_string();
    if p.ends_with('/') {
        p.push_str("**");
    }
    let has_slash = p.trim_end_matches("/**").contains('/');
    if !anchored && !has_slash {
        p = format!("**/{p}");
    }
    p
}

impl CodeOwners {
    pub fn parse(text: &str) -> CodeOwners {
        let mut rules = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty()
                || line.starts_with('#')
                || line.starts_with('[')
                || line.starts_with("^[")
            {
                continue;
            }
            let mut parts = line.split_whitespace();
            let Some(pattern) = parts.next() else {
                continue;
            };
            let owners: Vec<String> = parts
                .take_while(|p| !p.starts_with('#'))
                .map(String::from)
                .collect();
            for g in [to_glob(pattern), format!("{}/**", to_glob(pattern))] {
                if let Ok(glob) = Glob::new(&g) {
                    rules.push((glob.compile_matcher(), owners.clone()));
                }
            }
        }
        CodeOwners { rules }
    }

    /// Read the first CODEOWNERS found under `root`.
    pub fn find(root: &Path) -> Option<CodeOwners> {
        LOCATIONS
            .iter()
            .find_map(|l| std::fs::read_to_string(root.join(l)).ok())
            .map(|t| CodeOwners::parse(&t))
    }

    pub fn owners(&self, path: &str) -> Vec<String> {
        self.rules
            .iter()
            .rev()
            .find(|(g, _)| g.is_match(path))
            .map(|(_, o)| o.clone())
            .unwrap_or_default()
    }
}

/// Give each finding the CODEOWNERS owners of its path, from the CODEOWNERS under `root`
/// (the scanned tree or repository its paths are relative to). Findings that already have
/// owners keep them.
pub fn annotate(findings: &mut [crate::finding::Finding], root: &Path) {
    let Some(co) = CodeOwners::find(root) else {
        return;
    };
    for f in findings.iter_mut().filter(|f| f.codeowners.is_empty()) {
        f.codeowners = co.owners(&f.location.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn last_match_wins_and_syntaxes() {
        let c = CodeOwners::parse(
            "# comment\n* @org/all\n/src/ @alice\n*.env @secops\n[Docs]\ndocs/ @writers\n",
        );
        assert_eq!(c.owners("README.md"), ["@org/all"]);
        assert_eq!(c.owners("src/app.py"), ["@alice"]);
        assert_eq!(c.owners("src/deploy/.env"), ["@secops"]);
        assert_eq!(c.owners("docs/a.md"), ["@writers"]);
        assert_eq!(c.owners("lib/src/x.py"), ["@org/all"]);
    }
}
