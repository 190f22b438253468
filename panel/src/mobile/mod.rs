//! The controllers' mobile form under `/m`: find a plot, read its meters, attach a photo.

use poem::Route;

pub fn routes() -> Route {
    Route::new()
}
