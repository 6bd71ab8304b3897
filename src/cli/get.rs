//! `ciux get ...`: print one resolved value.

use anyhow::Result;

use super::{GetCommand, print_stdout};
use crate::error::NotImplemented;
use crate::git::{Repo, describe_head};

pub(crate) fn run(command: GetCommand) -> Result<()> {
    match command {
        GetCommand::Revision(args) => {
            let repo = Repo::discover(&args.path)?;
            let version = describe_head(&repo)?;
            print_stdout(&format!("{version}\n"))?;
            Ok(())
        }
        GetCommand::Image(args) => super::image::get(args),
        GetCommand::Configpath(_) => Err(NotImplemented("get configpath").into()),
        GetCommand::Deps(_) => Err(NotImplemented("get deps").into()),
    }
}
