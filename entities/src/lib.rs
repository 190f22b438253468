//! One module per table. Columns use the domain's types (`Kopecks`, `MeterValue`, `Period`,
//! `Service`…), so a value read from the database is already a domain value.

pub mod announcement;
pub mod audit_log;
pub mod bank_details;
pub mod bank_document;
pub mod charge;
pub mod closed_period;
pub mod consumer;
pub mod contract;
pub mod delivery;
pub mod holding;
pub mod import_draft;
pub mod line_plot;
pub mod link_code;
pub mod loss_decision;
pub mod member_request;
pub mod meter;
pub mod meter_photo;
pub mod network_line;
pub mod payer_account;
pub mod payment;
pub mod period_balance;
pub mod photo;
pub mod plot;
pub mod reading;
pub mod request_message;
pub mod seal_event;
pub mod staff;
pub mod tariff;
pub mod telegram_dialogue;
pub mod telegram_link;
pub mod telegram_update;
pub mod web_session;

pub mod prelude {
    pub use super::announcement::Entity as Announcement;
    pub use super::audit_log::Entity as AuditLog;
    pub use super::bank_details::Entity as BankDetails;
    pub use super::bank_document::Entity as BankDocument;
    pub use super::charge::Entity as Charge;
    pub use super::consumer::Entity as Consumer;
    pub use super::contract::Entity as Contract;
    pub use super::delivery::Entity as Delivery;
    pub use super::holding::Entity as Holding;
    pub use super::import_draft::Entity as ImportDraft;
    pub use super::link_code::Entity as LinkCode;
    pub use super::member_request::Entity as MemberRequest;
    pub use super::meter::Entity as Meter;
    pub use super::meter_photo::Entity as MeterPhoto;
    pub use super::payment::Entity as Payment;
    pub use super::photo::Entity as Photo;
    pub use super::plot::Entity as Plot;
    pub use super::reading::Entity as Reading;
    pub use super::request_message::Entity as RequestMessage;
    pub use super::seal_event::Entity as SealEvent;
    pub use super::staff::Entity as Staff;
    pub use super::tariff::Entity as Tariff;
    pub use super::telegram_dialogue::Entity as TelegramDialogue;
    pub use super::telegram_link::Entity as TelegramLink;
    pub use super::telegram_update::Entity as TelegramUpdate;
    pub use super::web_session::Entity as WebSession;
}
