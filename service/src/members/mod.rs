//! The board and the members talking through the bot: announcements to chosen members with a
//! record of each delivery, and members' requests answered from the panel.

pub mod announcements;
pub mod requests;
