//! `ciux migrate`: write `.ciux.toml` from the legacy YAML `.ciux`.

use anyhow::Result;

use super::MigrateArgs;
use crate::config;
use crate::git::Repo;

pub(crate) fn run(args: MigrateArgs) -> Result<()> {
    let repo = Repo::discover(&args.path.path)?;
    let written = config::migrate(repo.root())?;
    eprintln!("wrote {}", written.display());
    Ok(())
}
