//! The charts on the dashboard and a consumer's page: SVG drawn on the server from the service's
//! read models, shown with a plain `<img>` (the panel's pages run no script).

use maud::{Markup, html};
use poem::http::header;
use poem::web::{Data, Path};
use poem::{Response, Result, handler};
use service::Context;
use service::charts::{self, Format, Size};

use crate::auth::OfficeStaff;
use crate::error::{internal, not_found};

/// An SVG for the staff member who asked; the figures change with every payment and reading.
fn svg(bytes: Vec<u8>) -> Response {
    Response::builder()
        .content_type("image/svg+xml")
        .header(header::CACHE_CONTROL, "private, no-cache")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .body(bytes)
}

async fn draw(chart: impl service::charts::Chart + Send + 'static) -> Result<Response> {
    Ok(svg(charts::render(chart, Format::Svg, Size::PANEL).await.map_err(internal)?))
}

#[handler]
pub async fn collection(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    draw(charts::collection(&ctx).await.map_err(internal)?).await
}

#[handler]
pub async fn debt(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    draw(charts::debt(&ctx).await.map_err(internal)?).await
}

#[handler]
pub async fn round(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    draw(charts::round(&ctx).await.map_err(internal)?).await
}

#[handler]
pub async fn sources(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    draw(charts::sources(&ctx).await.map_err(internal)?).await
}

#[handler]
pub async fn losses(_user: OfficeStaff, ctx: Data<&Context>) -> Result<Response> {
    draw(charts::losses(&ctx, ctx.current_period()).await.map_err(internal)?).await
}

/// One of the consumer's contracts: its consumption and charges.
#[handler]
pub async fn consumption(
    _user: OfficeStaff,
    ctx: Data<&Context>,
    Path((consumer_id, contract_id)): Path<(i64, i64)>,
) -> Result<Response> {
    let histories = charts::consumption(&ctx, consumer_id).await.map_err(internal)?;
    let (_, history) = histories.into_iter().find(|(id, _)| *id == contract_id).ok_or_else(not_found)?;
    draw(history).await
}

/// The dashboard's four pictures.
pub fn dashboard() -> Markup {
    html! {
        div.charts {
            img src="/charts/collection" alt="Начислено и оплачено по месяцам" width="900" height="400";
            img src="/charts/debt" alt="Сальдо на конец месяца: долг за вычетом переплат" width="900" height="400";
            img src="/charts/round" alt="Обход: доля договоров с показаниями по дням" width="900" height="400";
            img src="/charts/sources" alt="Показания по источникам" width="900" height="400";
        }
    }
}

/// A picture per contract of the consumer.
pub fn consumer(consumer_id: i64, contract_ids: impl IntoIterator<Item = i64>) -> Markup {
    html! {
        div.charts {
            @for contract_id in contract_ids {
                img src={ "/consumers/" (consumer_id) "/charts/" (contract_id) }
                    alt="Потребление и начисления по месяцам" width="900" height="400";
            }
        }
    }
}
