//! The flow both spreadsheet imports share (the bank's payments, the register at go-live): upload,
//! a dry-run preview, then confirmation. Each screen keeps its own texts and pages; this is the
//! plumbing and the page parts that are the same.
//!
//! Between preview and confirmation the parsed rows wait as a draft in the database
//! ([`service::import_drafts`]), never in the page nor in the session: the browser sends back
//! only the token of the preview it confirms, so what gets stored is exactly what the server read
//! and showed.

use maud::{Markup, Render, html};
use poem::session::Session;
use poem::web::{Multipart, Redirect};
use poem::{IntoResponse, Response, Result};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use service::Context;
use service::import_drafts::{self, Draft, Kind};

use crate::error::{internal, refusal};
use crate::forms::{Errors, field, invalid};
use crate::layout::{Flash, csrf_input};
use crate::lists::table;

/// One import screen: where it lives and the texts that name its file.
pub struct ImportScreen {
    /// The upload page, where the upload form posts and where errors send the user back.
    pub path: &'static str,
    /// Where the confirmation posts.
    pub confirm_path: &'static str,
    /// Which drafts hold this screen's previews.
    pub kind: Kind,
    /// The file input's label.
    pub file_label: &'static str,
    /// The file types the file input offers (its `accept`).
    pub accept: &'static str,
    /// The error when the form comes without a file.
    pub no_file: &'static str,
    /// The message when the confirmed preview is no longer waiting.
    pub stale_message: &'static str,
}

/// The confirmation form: the token of the preview it confirms.
#[derive(Debug, Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    import_id: String,
}

impl ImportScreen {
    /// The errors of a form sent without a file.
    pub fn no_file_errors(&self) -> Errors {
        let mut errors = Errors::default();
        errors.add("file", self.no_file);
        errors
    }

    /// Keeps a new preview in place of the user's earlier one: its rows when they may be stored
    /// (none when the file cannot be), returning the token the confirmation must send back, or
    /// the refusal to show when the rows are too many to keep.
    pub async fn keep<R: Serialize>(
        &self,
        ctx: &Context,
        staff_id: i64,
        file_name: &str,
        rows: Option<Vec<R>>,
    ) -> Result<std::result::Result<Option<String>, String>> {
        let Some(rows) = rows else {
            import_drafts::discard(ctx, self.kind, staff_id).await.map_err(internal)?;
            return Ok(Ok(None));
        };
        match import_drafts::keep(ctx, self.kind, staff_id, file_name, &rows).await {
            Ok(token) => Ok(Ok(Some(token))),
            Err(e) => Ok(Err(refusal(e)?)),
        }
    }

    /// The end of an upload: keeps the rows that may be stored (none when the file cannot be)
    /// and draws the preview with the token its confirmation sends back, or the upload page with
    /// the refusal when the rows are too many to keep.
    pub async fn previewed<R: Serialize>(
        &self,
        ctx: &Context,
        staff_id: i64,
        file_name: &str,
        rows: Option<Vec<R>>,
        preview_page: impl FnOnce(Option<&str>) -> Markup,
        upload_page: impl FnOnce(&Errors) -> Markup,
    ) -> Result<Response> {
        Ok(match self.keep(ctx, staff_id, file_name, rows).await? {
            Ok(pending_id) => preview_page(pending_id.as_deref()).into_response(),
            Err(message) => invalid(upload_page(&Errors::form(message))),
        })
    }

    /// Takes out the preview the form confirms; none when it is not the user's current one (a
    /// stale tab, a file uploaded again, an expired or already stored preview).
    pub async fn take<R: DeserializeOwned>(
        &self,
        ctx: &Context,
        staff_id: i64,
        form: &ConfirmForm,
    ) -> Result<Option<Draft<R>>> {
        import_drafts::take(ctx, self.kind, staff_id, &form.import_id).await.map_err(internal)
    }

    /// Back to the upload page with an error message.
    pub fn back(&self, session: &Session, message: impl Into<String>) -> Response {
        Flash::error(session, message);
        Redirect::see_other(self.path).into_response()
    }

    /// Back to the upload page because the confirmed preview is gone.
    pub fn stale(&self, session: &Session) -> Response {
        self.back(session, self.stale_message)
    }

    pub fn upload_form(&self, csrf: &str, errors: &Errors) -> Markup {
        html! {
            form.stack method="post" action=(self.path) enctype="multipart/form-data" {
                (csrf_input(csrf))
                (field(errors, "file", self.file_label, html! {
                    input #file type="file" name="file" accept=(self.accept) required;
                }))
                button type="submit" { "Проверить файл" }
            }
        }
    }

    /// The button that stores the previewed file, and a way back.
    pub fn confirm_form(&self, csrf: &str, pending_id: &str, button: Markup) -> Markup {
        html! {
            form.stack method="post" action=(self.confirm_path) {
                (csrf_input(csrf))
                input type="hidden" name="import_id" value=(pending_id);
                button type="submit" { (button) }
                " " a href=(self.path) { "Отмена" }
            }
        }
    }
}

/// The most of an uploaded file's name that is kept. The name is only a label, but it is stored
/// with what the file brought (each bank document, the audit), so a name of megabytes, which a
/// form's header can carry, is cut here.
const FILE_NAME_CHARS: usize = 200;

/// The uploaded file's name (its last path component, shortened) and bytes; none when the form
/// has no file or an empty one.
pub async fn uploaded_file(mut multipart: Multipart) -> Result<Option<(String, Vec<u8>)>> {
    let mut file = None;
    while let Some(part) = multipart.next_field().await? {
        if part.name() == Some("file") {
            let path = part.file_name().unwrap_or_default();
            let name = path.rsplit(['/', '\\']).next().unwrap_or_default().trim();
            let name =
                if name.is_empty() { "файл".to_owned() } else { domain::text::excerpt(name, FILE_NAME_CHARS) };
            file = Some((name, part.bytes().await?));
        }
    }
    Ok(file.filter(|(_, bytes)| !bytes.is_empty()))
}

/// The file's rows with errors, by line; nothing when there are none.
pub fn errors_section<R: Render>(bad: impl ExactSizeIterator<Item = (usize, R)>) -> Markup {
    html! {
        @if bad.len() > 0 {
            h2 { "Ошибки" }
            (table(&["Строка", "Что не так"], bad.map(|(line, reason)| html! {
                tr { td.num { (line) } td { (reason) } }
            })))
        }
    }
}
