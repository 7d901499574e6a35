//! The plugin's own state in the tenant database: its `hubspot_sync_*` tables and their
//! migrations, the takeover of the old module's links, and the sync health read from them.

pub mod health;
pub mod state;
pub mod takeover;
