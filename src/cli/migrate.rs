//! `ciux migrate`: write `.ciux.toml` from the legacy YAML `.ciux`.

use anyhow::Result;

use super::MigrateArgs;
use crate::config;
use crate::git::Repo;

pub(crate) fn run(args: MigrateArgs) -> Result<()> {
    let repo = Repo::discover(&args.path.path)?;
    let written = config::migrate(repo.root())?;
    crate::safe_text::eprint_line(&format!("wrote {}", written.display()));
    Ok(())
}
