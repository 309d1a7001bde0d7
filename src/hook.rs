//! `sprawl install-hook`: a repository in, a `pre-commit` hook that runs
//! `sprawl git --staged` out, written where git will run it: the directory
//! `git rev-parse --git-path hooks` names (`core.hooksPath`, absolute or relative to the work
//! tree, as husky sets it; else the hooks of the common git directory, which linked work
//! trees share). An existing hook that is not ours is left alone unless forced.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use git2::Repository;

/// The line that marks a hook as written by sprawl.
const MARKER: &str = "# installed by sprawl install-hook";

/// The hook script. It runs `sprawl` from PATH; `fallback` (the binary that installed the
/// hook, when no `sprawl` was on PATH then) is used when PATH still has none.
pub fn script(fallback: Option<&Path>) -> String {
    let mut s = format!(
        "#!/bin/sh\n{MARKER}\n\
         # Blocks a commit that adds a credential. Bypass once with: git commit --no-verify\n"
    );
    match fallback {
        None => s.push_str("exec sprawl git --staged --no-progress\n"),
        Some(exe) => {
            let exe = exe.display().to_string().replace('\'', r"'\''");
            s.push_str(&format!(
                "# No `sprawl` was on PATH when this hook was installed: if there is still none,\n\
                 # run the binary that installed it.\n\
                 SPRAWL=sprawl\n\
                 command -v sprawl >/dev/null 2>&1 || SPRAWL='{exe}'\n\
                 exec \"$SPRAWL\" git --staged --no-progress\n"
            ));
        }
    }
    s
}

/// Where git runs this repository's hooks from (`git rev-parse --git-path hooks`).
pub fn hooks_dir(repo: &Repository) -> Result<PathBuf> {
    let configured = repo
        .config()
        .ok()
        .and_then(|c| c.get_path("core.hooksPath").ok())
        .filter(|p| !p.as_os_str().is_empty());
    Ok(match configured {
        Some(p) if p.is_absolute() => p,
        // Relative to where git runs hooks: the top of the work tree, or a bare git dir.
        Some(p) => repo.workdir().unwrap_or_else(|| repo.path()).join(p),
        None => repo.commondir().join("hooks"),
    })
}

/// An executable named `sprawl` on PATH.
fn sprawl_on_path() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join("sprawl"))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Install the hook into `repo` (a work tree, a linked work tree, or a git directory);
/// returns the hook's path.
pub fn install(repo: &Path, force: bool) -> Result<PathBuf> {
    let r = crate::source::git::open(repo)?;
    let hooks = hooks_dir(&r)?;
    std::fs::create_dir_all(&hooks).with_context(|| format!("creating {}", hooks.display()))?;
    let hook = hooks.join("pre-commit");
    if hook.exists() && !force {
        let existing = std::fs::read_to_string(&hook).unwrap_or_default();
        if !existing.contains(MARKER) {
            bail!(
                "{} exists and was not written by sprawl; add `sprawl git --staged` to it, or use --force",
                hook.display()
            );
        }
    }
    let fallback = match sprawl_on_path() {
        Some(_) => None,
        None => Some(std::env::current_exe().context("finding the running sprawl binary")?),
    };
    let tmp = hooks.join(format!(".pre-commit.sprawl.{}.tmp", std::process::id()));
    std::fs::write(&tmp, script(fallback.as_deref()))
        .with_context(|| format!("writing {}", tmp.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", tmp.display()))?;
    }
    std::fs::rename(&tmp, &hook).with_context(|| format!("writing {}", hook.display()))?;
    Ok(hook)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_names_no_path_unless_it_must() {
        let plain = script(None);
        assert!(plain.contains("exec sprawl git --staged"));
        assert!(!plain.contains("SPRAWL="));
        let with = script(Some(Path::new("/opt/it's/sprawl")));
        assert!(with.contains("No `sprawl` was on PATH"));
        assert!(with.contains(r"'/opt/it'\''s/sprawl'"));
    }
}
