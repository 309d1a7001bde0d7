//! CODEOWNERS (GitHub and GitLab syntax): a repository root in, the owners of a path out.
//! The last matching pattern wins; GitLab `[Section]` headers are skipped.

use std::path::Path;

use globset::GlobBuilder;

/// The lines of a CODEOWNERS file, kept as text: a glob is compiled only when a path is looked
/// up and holds the line's longest literal piece, so a CODEOWNERS of 100k lines costs about its
/// size in memory, not a compiled matcher per line, and a lookup compiles a handful of globs.
pub struct CodeOwners {
    lines: Vec<Line>,
}

struct Line {
    glob: String,
    /// A piece of text (no `/`, no glob syntax) every path this line matches contains.
    literal: String,
    owners: Vec<String>,
    /// Whether the line owns what is under a directory it matches (not for `dir/*`, which
    /// GitHub documents as one level only).
    covers_children: bool,
}

/// The longest run of plain characters outside `[...]` and `{...}`, split at `/`.
fn required_literal(glob: &str) -> String {
    let (mut best, mut run) = (String::new(), String::new());
    let mut depth = 0usize;
    let mut chars = glob.chars();
    while let Some(c) = chars.next() {
        match c {
            '[' | '{' => depth += 1,
            ']' | '}' => depth = depth.saturating_sub(1),
            '\\' if depth == 0 => {
                if let Some(n) = chars.next() {
                    run.push(n);
                }
                continue;
            }
            c if depth == 0 && !matches!(c, '*' | '?' | '/' | ',') => {
                run.push(c);
                continue;
            }
            _ => {}
        }
        if run.len() > best.len() {
            best = std::mem::take(&mut run);
        }
        run.clear();
    }
    if run.len() > best.len() {
        best = run;
    }
    best
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
        let mut lines = Vec::new();
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
            let glob = to_glob(pattern);
            lines.push(Line {
                literal: required_literal(&glob),
                glob,
                owners: parts
                    .take_while(|p| !p.starts_with('#'))
                    .map(String::from)
                    .collect(),
                covers_children: !pattern.ends_with("/*"),
            });
        }
        CodeOwners { lines }
    }

    /// Read the first CODEOWNERS found under `root`.
    pub fn find(root: &Path) -> Option<CodeOwners> {
        LOCATIONS
            .iter()
            .find_map(|l| std::fs::read_to_string(root.join(l)).ok())
            .map(|t| CodeOwners::parse(&t))
    }

    /// The owners of the last line matching `path` or one of its parent directories.
    pub fn owners(&self, path: &str) -> Vec<String> {
        let path = path.trim_end_matches('/');
        let parents: Vec<&str> = path.match_indices('/').map(|(at, _)| &path[..at]).collect();
        for line in self.lines.iter().rev() {
            if !path.contains(line.literal.as_str()) {
                continue;
            }
            // `*` stops at `/`, as in gitignore: `docs/*` owns `docs/a.md`, not `docs/b/c.md`.
            // A line that is not a valid glob owns nothing.
            let Ok(glob) = GlobBuilder::new(&line.glob).literal_separator(true).build() else {
                continue;
            };
            let m = glob.compile_matcher();
            if m.is_match(path) || (line.covers_children && parents.iter().any(|p| m.is_match(p))) {
                return line.owners.clone();
            }
        }
        Vec::new()
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

    #[test]
    fn a_line_owns_what_is_under_what_it_matches() {
        let c = CodeOwners::parse("/apps/web @web\nconfig @cfg\n/api/*.go @go\n/api/v1/ @v1\n");
        assert_eq!(c.owners("apps/web/src/a.ts"), ["@web"]);
        assert_eq!(c.owners("apps/web"), ["@web"]);
        assert!(c.owners("apps/webx/a.ts").is_empty());
        assert_eq!(c.owners("deep/config/prod/.env"), ["@cfg"]);
        assert_eq!(c.owners("api/main.go"), ["@go"]);
        assert_eq!(c.owners("api/v1/x.go"), ["@v1"]);
        assert!(c.owners("other/api/main.go").is_empty());
        let d = CodeOwners::parse("docs/* @docs\n");
        assert_eq!(d.owners("docs/getting-started.md"), ["@docs"]);
        assert!(d.owners("docs/build-app/troubleshooting.md").is_empty());
    }

    #[test]
    fn literal_pieces_are_what_a_match_must_contain() {
        assert_eq!(required_literal("**/services/svc12/**"), "services");
        assert_eq!(required_literal("**/*.ext12"), ".ext12");
        assert_eq!(required_literal("a/{long,x}/b*"), "a");
        assert_eq!(required_literal("**"), "");
    }

    #[test]
    fn a_bad_line_is_skipped_and_the_rest_applies() {
        let c = CodeOwners::parse("src/[ @broken\nsrc/ @ok\n");
        assert_eq!(c.owners("src/a.rs"), ["@ok"]);
    }
}
