//! The `sprawl` binary: parse the command line, run it, map the outcome to an exit code
//! (0 nothing to report, 1 findings, 2 usage or runtime error; a closed pipe is not an error).

use clap::Parser;
use sprawl::{
    cli::{Cli, Command},
    command,
};

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Scan(args) => command::scan::scan(args),
        Command::Git(args) => command::git::git(args),
        Command::Audit(args) => command::audit::audit(args),
        Command::InstallHook { repo, force } => command::hook::install_hook(&repo, force),
        Command::Rules(cmd) => command::rules::rules(cmd),
        Command::Revoke(args) => command::revoke::revoke(args),
        Command::Merge(args) => command::merge::merge(args),
    };
    let code = match result {
        Ok(code) => code,
        Err(e) if is_broken_pipe(&e) => command::EXIT_CLEAN,
        Err(e) => {
            let message = sprawl::finding::redact_message(&format!("{e:#}"));
            eprintln!("sprawl: error: {message}");
            command::EXIT_ERROR
        }
    };
    std::process::exit(code);
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
