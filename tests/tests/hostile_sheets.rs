//! Hostile spreadsheets uploaded to the running system: a 5 KB book with a cell at the far corner,
//! a part that inflates to hundreds of MB (declared or hidden), the largest cell the zip limits
//! let through, an xls renamed. Each is refused in Russian, `/healthz` answers over HTTP while
//! they are read, and the process's peak memory stays bounded.
//!
//! The only test in this binary, so the peak memory it reads is its own.

use std::sync::atomic::{AtomicBool, Ordering};

use domain::Role;
use poem::http::StatusCode;
use rust_xlsxwriter::Workbook;
use service::testing::sheets::{SHEET_PART, bomb, declaring};
use tests::{PanelClient, TestApp, memory};

/// Peak memory a refused file may add to the process; it takes far less (see the README).
const BOUND_MB: f64 = 200.0;

async fn logged_in(app: &TestApp, login: &str, role: Role) -> PanelClient {
    service::testing::staff(app.ctx(), login, role).await;
    let client = PanelClient::new(app.ctx());
    let landed = client.login(login, &format!("{login}-password")).await;
    client.get(landed.location().expect("login redirects")).await.assert_ok();
    client
}

/// A book as a spreadsheet program writes it: «Договор» in A1 and a number in XFD1048576.
fn far_corner() -> Vec<u8> {
    let mut workbook = Workbook::new();
    let sheet = workbook.add_worksheet();
    sheet.write_string(0, 0, "Договор").unwrap();
    sheet.write_number(1_048_575, 16_383, 1.0).unwrap();
    workbook.save_to_buffer().unwrap()
}

/// Uploads `bytes` and returns the refusal page with the peak memory the upload added, in MB.
async fn refused(client: &PanelClient, path: &str, name: &str, bytes: Vec<u8>, message: &str) -> f64 {
    let before = memory::rss_mb().expect("/proc/self/status");
    memory::reset_peak();
    let page = client.upload_file(path, name, bytes).await;
    let added = memory::peak_mb().expect("/proc/self/status") - before;
    assert_eq!(page.status, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {}", page.body);
    page.assert_contains(message);
    eprintln!("{name}: refused, peak memory +{added:.1} MB");
    assert!(added < BOUND_MB, "{name} added {added:.0} MB at its peak");
    added
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_books_are_refused_with_bounded_memory_while_the_server_answers() {
    let app = TestApp::spawn().await;
    let accountant = logged_in(&app, "buh", Role::Accountant).await;
    let admin = logged_in(&app, "admin2", Role::Admin).await;

    let corner = far_corner();
    assert!(corner.len() < 6_000, "{} bytes", corner.len());
    refused(
        &accountant,
        "/payments/import",
        "corner.xlsx",
        corner.clone(),
        "Заполнена ячейка XFD1048576, а таблица читается только до столбца CV (100-го).",
    )
    .await;
    refused(&admin, "/register/import", "corner.xlsx", corner, "Заполнена ячейка XFD1048576").await;

    let mut long = Workbook::new();
    let sheet = long.add_worksheet();
    sheet.write_string(0, 0, "Договор").unwrap();
    sheet.write_number(199_999, 25, 1.0).unwrap();
    let message = "В файле больше 10\u{202f}000 строк (ячейка Z200000 уже за пределами)";
    refused(&accountant, "/payments/import", "long.xlsx", long.save_to_buffer().unwrap(), message).await;

    // 300 MB of one cell in 3 MB; the zip's directory says so.
    let declared = bomb(300 << 20);
    assert!(declared.len() < 4 << 20, "{} bytes", declared.len());
    let message = "Файл «bomb.xlsx» внутри больше 64 МБ";
    refused(&accountant, "/payments/import", "bomb.xlsx", declared.clone(), message).await;
    // The same bomb with a directory that claims a 1 000-byte sheet: cut off at 1 000 bytes.
    let hidden = declaring(declared, SHEET_PART, 1_000);
    let message = "Файл «hidden.xlsx» не читается как книга Excel";
    refused(&admin, "/register/import", "hidden.xlsx", hidden.clone(), message).await;
    // The most a book within the zip limits can make the reader hold: one 30 MB cell.
    let largest = bomb(30 << 20);
    let message = "В ячейке A1 больше 2000 знаков";
    let worst = refused(&accountant, "/payments/import", "largest.xlsx", largest.clone(), message).await;
    eprintln!("worst case within the limits: +{worst:.1} MB");

    // An Excel 97–2003 book renamed to .xlsx is told apart by its content.
    let mut xls = vec![0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1];
    xls.resize(4_096, 0);
    let message = "Файл «old.xlsx» — книга Excel 97–2003 (xls) или книга с паролем: такие файлы не загружаются.";
    refused(&accountant, "/payments/import", "old.xlsx", xls, message).await;

    // Two hostile files at once: /healthz keeps answering over HTTP while they are read.
    let healthz = app.app.panel_url().join("healthz").unwrap();
    let http = reqwest::Client::builder().timeout(std::time::Duration::from_secs(30)).build().unwrap();
    let finished = AtomicBool::new(false);
    let uploads = async {
        let pages = tokio::join!(
            accountant.upload_file("/payments/import", "largest.xlsx", largest),
            admin.upload_file("/register/import", "hidden.xlsx", hidden),
        );
        finished.store(true, Ordering::SeqCst);
        pages
    };
    let probes = async {
        let mut answered_meanwhile = 0;
        loop {
            let response = http.get(healthz.clone()).send().await.expect("/healthz answers");
            assert_eq!(response.status().as_u16(), 200);
            if finished.load(Ordering::SeqCst) {
                return answered_meanwhile;
            }
            answered_meanwhile += 1;
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        }
    };
    let ((largest, hidden), answered_meanwhile) = tokio::join!(uploads, probes);
    largest.assert_contains("В ячейке A1 больше 2000 знаков");
    hidden.assert_contains("не читается как книга Excel");
    assert!(answered_meanwhile > 0, "/healthz answered while the files were read");
    app.app.stop().await;
}
