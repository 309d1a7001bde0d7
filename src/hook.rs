//! `sprawl install-hook`: a repository in, a `.git/hooks/pre-commit` that runs
//! `sprawl git --staged` out. An existing hook that is not ours is left alone unless forced.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};

/// The line that marks a hook as written by sprawl.
const MARKER: &str = "# installed by sprawl install-hook";

/// The hook script; `exe` is the sprawl binary to run (falls back to `sprawl` on PATH).
pub fn script(exe: &Path) -> String {
    let exe = exe.display().to_string().replace('\'', r"'\''");
    format!(
        "#!/bin/sh\n{MARKER}\n# Blocks a commit that adds a credential. Bypass once with: git commit --no-verify\n\
         SPRAWL='{exe}'\n\
         [ -x \"$SPRAWL\" ] || SPRAWL=sprawl\n\
         exec \"$SPRAWL\" git --staged --no-progress .\n"
    )
}

/// Install the hook into `repo` (a work tree or its `.git`); returns the hook's path.
pub fn install(repo: &Path, force: bool) -> Result<PathBuf> {
    let r = crate::source::git::open(repo)?;
    let hooks = r.path().join("hooks");
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
    let exe = std::env::current_exe().unwrap_or_else(|_| PathBuf::from("sprawl"));
    std::fs::write(&hook, script(&exe)).with_context(|| format!("writing {}", hook.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&hook, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("making {} executable", hook.display()))?;
    }
    Ok(hook)
}
