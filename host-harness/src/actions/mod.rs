//! What an operator does to a tenant, one function per action: the command line and the web
//! console both call these, so each action has exactly one implementation (what the CLI
//! prints and what the console shows are the only differences).
//!
//! Reading actions: [`status`] (sync health and the process starters). Changing actions:
//! [`settings`] (the module's Save), [`run`] (a job by hand, or its dry run), [`stages`] (map a
//! deal stage by hand), [`starters`] (a process starter's period and switch). The Refresh
//! button is [`XentralHost::refresh`](crate::XentralHost::refresh) itself.

pub mod run;
pub mod settings;
pub mod stages;
pub mod starters;
pub mod status;
