//! Stored photos (meter inventory, reading evidence) for any logged-in staff member; those members
//! sent with requests to the board for the office only. The request
//! names a photo by its integer id only; the file's path comes from the database, so no request
//! can reach a file outside `PHOTO_DIR`.

use poem::http::header;
use poem::web::{Data, Path};
use poem::{Response, Result, handler};
use service::Context;

use crate::auth::Staff;
use crate::error::{found, internal, not_found};

#[handler]
pub async fn full(user: Staff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Response> {
    serve(&ctx, &user, id, false).await
}

#[handler]
pub async fn thumbnail(user: Staff, ctx: Data<&Context>, Path(id): Path<i64>) -> Result<Response> {
    serve(&ctx, &user, id, true).await
}

async fn serve(ctx: &Context, user: &Staff, id: i64, thumb: bool) -> Result<Response> {
    let path = found(service::meters::photos::file_for(ctx, id, thumb, user.staff.role).await)?;
    let bytes = match tokio::fs::read(&path).await {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            tracing::error!(photo = id, path = %path.display(), "photo file missing");
            return Err(not_found());
        }
        Err(e) => return Err(internal(e)),
    };
    // Every stored photo is a re-encoded JPEG, and a photo id never changes its picture.
    Ok(Response::builder()
        .content_type("image/jpeg")
        .header(header::CACHE_CONTROL, "private, max-age=604800, immutable")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(bytes))
}
