//! `sprawl install-hook`: a repository in, a pre-commit hook that runs `sprawl git --staged`
//! written.

use anyhow::Result;

use super::EXIT_CLEAN;

pub fn install_hook(repo: &std::path::Path, force: bool) -> Result<i32> {
    let hook = crate::hook::install(repo, force)?;
    println!("installed {}", hook.display());
    Ok(EXIT_CLEAN)
}
