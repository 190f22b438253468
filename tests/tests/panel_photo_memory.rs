//! Memory under parallel photo uploads through the mobile form, measured in this process, where
//! the app runs. Alone in its test binary, so that no other test's allocations count.

use std::io::Cursor;

use domain::{Role, Service, TariffPlan};
use entities::reading;
use futures::future::join_all;
use image::{DynamicImage, ImageBuffer, ImageFormat, Rgba};
use poem::http::StatusCode;
use poem::test::TestFormField;
use sea_orm::{EntityTrait, PaginatorTrait};
use service::testing::{TestContext, new_consumer};
use tests::{PanelClient, memory};

/// Uploads at once: more than the cores, so that most wait for `heavy::run`.
const UPLOADS: usize = 8;

/// Peak memory above the idle process that the uploads must stay under.
const TARGET_MB: f64 = 300.0;

/// The costliest photo the intake accepts for its size: a few hundred kilobytes of 16-bit RGBA
/// PNG whose decoded pixels (8 bytes each, and the 3-byte RGB copy) just fit the decode budget.
fn costliest_accepted_photo() -> Vec<u8> {
    let pixels = ImageBuffer::from_fn(2760, 2760, |x, y| Rgba([(x * 23) as u16, (y * 23) as u16, 30_000, 65_535]));
    let mut bytes = Cursor::new(Vec::new());
    DynamicImage::ImageRgba16(pixels).write_to(&mut bytes, ImageFormat::Png).expect("encode");
    bytes.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn parallel_uploads_of_the_costliest_photo_stay_within_the_memory_target() {
    let t = TestContext::new().await;
    t.standard_tariffs().await;
    t.staff("kontroler", Role::Controller).await;
    let client = PanelClient::new(&t.ctx);
    client.login("kontroler", "kontroler-password").await;
    let photo = costliest_accepted_photo();
    let mut forms = Vec::new();
    for plot in 1..=UPLOADS {
        let consumer = new_consumer(&format!("Потребитель {plot}"), None);
        let number = format!("В-{plot}");
        let signed = t.sign(&plot.to_string(), consumer, &number, Service::Water, TariffPlan::Single, &[100]).await;
        let path = format!("/m/meters/{}/reading", signed.meter_id);
        let key = client.get(&path).await.input_value("key").expect("the form's key");
        let form = client
            .multipart()
            .text("key", key)
            .text("value", "101")
            .text("seal", "yes")
            .field(TestFormField::bytes(photo.clone()).name("photo").filename("meter.png"));
        forms.push((path, form));
    }

    let idle = memory::rss_mb().expect("/proc/self/status");
    memory::reset_peak();
    let pages = join_all(forms.into_iter().map(|(path, form)| {
        let client = &client;
        async move { client.post_multipart(&path, form).await }
    }))
    .await;
    let above_idle = memory::peak_mb().expect("/proc/self/status") - idle;

    for page in &pages {
        assert_eq!(page.status, StatusCode::SEE_OTHER, "accepted: {}", page.body);
    }
    assert_eq!(reading::Entity::find().count(t.ctx.db.conn()).await.unwrap(), UPLOADS as u64);
    println!(
        "{UPLOADS} parallel uploads of a {} KB 16-bit RGBA PNG, 2760×2760: peak {:.1} MB above the idle {:.1} MB",
        photo.len() / 1000,
        above_idle,
        idle
    );
    assert!(above_idle < TARGET_MB, "{above_idle:.1} MB above idle");
}
