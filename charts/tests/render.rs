//! Every chart drawn for real, both ways: the PNG is decoded and its pixels counted, the SVG is
//! parsed as XML and its elements counted. Samples go to `<target>/tmp/charts/` to be looked at.

use std::collections::HashSet;
use std::path::PathBuf;

mod common;

use charts::inspect::{bar_runs, decode, rgb};
use charts::palette::{self, RGBColor};
use charts::{
    ChartError, CollectionHistory, ConsumptionHistory, ConsumptionMonth, DebtHistory, DebtMonth, Format, LossLine,
    LossesHistory, Renderer, RoundMonth, RoundProgress, Size, SourcesHistory, SourcesMonth,
};
use common::{collection, electricity, months, period, rubles};
use domain::{Kopecks, MeterValue, ReadingSource, Service, Zone};
use image::RgbImage;
use quick_xml::XmlVersion;
use quick_xml::events::Event;

// ---- looking at pictures ----------------------------------------------------------------

fn save(name: &str, bytes: &[u8]) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("charts");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn colours(image: &RgbImage) -> usize {
    image.pixels().map(|p| p.0).collect::<HashSet<[u8; 3]>>().len()
}

/// Not blank: anti-aliased text (many shades), and at least `percent` of the pixels drawn on.
fn assert_drawn(image: &RgbImage, percent: usize) {
    let inked = image.pixels().filter(|p| **p != rgb(palette::BACKGROUND)).count();
    assert!(colours(image) > 30, "only {} colours", colours(image));
    assert!(inked * 100 / image.pixels().len() >= percent, "only {inked} pixels drawn");
}

/// An SVG element as parsed: its name, attributes and text.
struct Element {
    name: String,
    attrs: Vec<(String, String)>,
    text: String,
}

impl Element {
    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn is(&self, name: &str, attr: &str, value: &str) -> bool {
        self.name == name && self.attr(attr) == Some(value)
    }
}

/// Parses the SVG as XML (fails on any error) and returns its elements in order.
fn elements(svg: &str) -> Vec<Element> {
    let mut reader = quick_xml::Reader::from_str(svg);
    let mut out: Vec<Element> = Vec::new();
    loop {
        match reader.read_event().expect("the SVG is well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let attrs = e
                    .attributes()
                    .map(|a| {
                        let a = a.expect("a well-formed attribute");
                        (a.key.as_ref().to_owned(), a.normalized_value(XmlVersion::Implicit1_0).unwrap().into_owned())
                    })
                    .collect();
                out.push(Element { name: e.name().as_ref().to_owned(), attrs, text: String::new() });
            }
            Event::Text(t) => {
                if let Some(last) = out.last_mut() {
                    last.text.push_str(&t.xml10_content());
                }
            }
            // quick-xml hands `&lt;` and `&#x41;` over as references of their own.
            Event::GeneralRef(r) => {
                let resolved = match r.resolve_char_ref().expect("a valid character reference") {
                    Some(c) => c.to_string(),
                    None => quick_xml::escape::resolve_predefined_entity(&r.xml10_content())
                        .expect("a known entity")
                        .to_owned(),
                };
                if let Some(last) = out.last_mut() {
                    last.text.push_str(&resolved);
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert_eq!(out.first().map(|e| e.name.as_str()), Some("svg"));
    out
}

fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// Filled rectangles of `colour` in the SVG (bars, and the legend's swatch).
fn rects(svg: &str, colour: RGBColor) -> usize {
    elements(svg).iter().filter(|e| e.is("rect", "fill", &hex(colour))).count()
}

/// The number of points of each line of `colour`, in drawing order.
fn lines(svg: &str, colour: RGBColor) -> Vec<usize> {
    elements(svg)
        .iter()
        .filter(|e| e.is("polyline", "stroke", &hex(colour)))
        .map(|e| e.attr("points").unwrap().split_whitespace().count())
        .collect()
}

fn texts(svg: &str) -> Vec<String> {
    // plotters puts each text on lines of its own.
    elements(svg).into_iter().filter(|e| e.name == "text").map(|e| e.text.trim().to_owned()).collect()
}

/// Draws `chart` as a PNG, keeps it as `name` to be looked at, decodes it and checks it is
/// drawn on (`percent` of its pixels at least).
fn sample(name: &str, chart: &impl charts::Chart, size: Size, percent: usize) -> RgbImage {
    let bytes = png(chart, size);
    save(name, &bytes);
    let image = decode(&bytes, size);
    assert_drawn(&image, percent);
    image
}

fn png(chart: &impl charts::Chart, size: Size) -> Vec<u8> {
    Renderer::new().png(chart, size).unwrap()
}

fn svg(chart: &impl charts::Chart) -> String {
    Renderer::new().svg(chart, Size::PANEL).unwrap()
}

// ---- the consumer's chart -------------------------------------------------------------

#[test]
fn a_year_with_the_year_before_shows_two_bars_a_month() {
    assert!(Renderer::new().draws_text(), "the embedded font loads");
    let chart = electricity("2026-11", 24, false, 12);
    let image = sample("consumption-12.png", &chart, Size::PHONE, 5);
    assert_eq!(bar_runs(&image, palette::USED), 12);
    assert_eq!(bar_runs(&image, palette::USED_YEAR_BEFORE), 12);
    assert!(image.pixels().any(|p| *p == rgb(palette::CHARGED)), "the charges line");

    let svg = svg(&chart);
    // One swatch in the legend besides the bars.
    assert_eq!(rects(&svg, palette::USED), 12 + 1);
    assert_eq!(rects(&svg, palette::USED_YEAR_BEFORE), 12 + 1);
    let texts = texts(&svg);
    for label in ["дек", "янв", "фев", "июн", "ноя", "2026", "Год назад", "Начислено, ₽ (шкала справа)"]
    {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    assert!(texts[0].contains("Участок 57, договор 57-Э — электроэнергия по месяцам, кВт·ч"), "{}", texts[0]);
}

#[test]
fn twenty_four_day_night_months_stack_both_zones() {
    // 36 months: the last 24 are shown, each with the month a year before it.
    let chart = electricity("2026-11", 36, true, 24);
    let image = sample("consumption-24-day-night.png", &chart, Size::PHONE, 5);
    assert_eq!(bar_runs(&image, palette::USED), 24, "day bars");
    assert_eq!(bar_runs(&image, palette::USED_YEAR_BEFORE), 24, "day bars a year before");
    let svg = svg(&chart);
    assert_eq!(rects(&svg, palette::NIGHT), 24 + 1, "night parts and their swatch");
    assert_eq!(rects(&svg, palette::NIGHT_YEAR_BEFORE), 24);
    let texts = texts(&svg);
    assert!(texts.iter().any(|t| t == "День") && texts.iter().any(|t| t == "Ночь"));
    // Every year under its January; December 2024, first and alone, leaves its year to the
    // January beside it rather than crowd it.
    let years: Vec<&String> = texts.iter().filter(|t| t.len() == 4 && t.starts_with("20")).collect();
    assert_eq!(years, ["2025", "2026"]);
}

#[test]
fn one_month_is_one_bar_in_a_year_of_slots() {
    let chart = electricity("2026-11", 1, false, 12);
    let image = sample("consumption-1.png", &chart, Size::PHONE, 5);
    assert_eq!(bar_runs(&image, palette::USED), 1);
    assert_eq!(bar_runs(&image, palette::USED_YEAR_BEFORE), 0);
    let texts = texts(&svg(&chart));
    assert!(texts.iter().any(|t| t == "дек") && texts.iter().any(|t| t == "ноя"), "twelve month slots: {texts:?}");
    assert!(!texts.iter().any(|t| t == "Год назад"), "no year-before entry without its bars");
}

#[test]
fn gaps_stay_gaps() {
    let mut chart = electricity("2026-11", 12, false, 12);
    chart.months.retain(|m| ![3, 4, 5].contains(&m.period.month()));
    chart.months.reverse(); // any order
    let image = decode(&png(&chart, Size::PHONE), Size::PHONE);
    assert_eq!(bar_runs(&image, palette::USED), 9);
}

#[test]
fn no_history_is_a_picture_saying_so() {
    let chart =
        ConsumptionHistory { contract: "Участок 12".into(), service: Service::Water, shown: 12, months: vec![] };
    sample("consumption-empty.png", &chart, Size::PHONE, 1);
    let texts = texts(&svg(&chart));
    assert!(texts.iter().any(|t| t == "Нет данных"), "{texts:?}");
    assert!(texts[0].contains("вода по месяцам, м³"), "{}", texts[0]);
}

#[test]
fn huge_values_do_not_break_the_axes() {
    let most = Kopecks::parse_rubles("1 000 000 000 000").unwrap();
    let chart = ConsumptionHistory {
        contract: "Участок 1".into(),
        service: Service::Electricity,
        shown: 24,
        months: months("2026-11", 24)
            .into_iter()
            .map(|p| ConsumptionMonth {
                period: p,
                // Both zones at the largest value there is: their sum must not overflow.
                zones: vec![(Zone::Day, MeterValue::MAX), (Zone::Night, MeterValue::MAX)],
                charged: most,
            })
            .collect(),
    };
    let image = sample("consumption-huge.png", &chart, Size::PHONE, 1);
    assert_eq!(bar_runs(&image, palette::USED), 24);
    assert_eq!(bar_runs(&image, palette::USED_YEAR_BEFORE), 12, "the first year has none before it");
    let texts = texts(&svg(&chart));
    // Two zones at a meter's largest value (10⁹ units) and a trillion rubles a month.
    assert!(texts.iter().any(|t| t.ends_with("2\u{202f}000\u{a0}млн")), "{texts:?}");
    assert!(texts.iter().any(|t| t.ends_with("1\u{202f}000\u{a0}млрд")), "{texts:?}");
}

#[test]
fn names_are_text_not_markup_and_long_ones_are_cut() {
    let mut chart = electricity("2026-11", 3, false, 12);
    chart.contract = format!("<script>alert(1)</script>\u{0}\u{1b}[31m {}", "очень длинное название ".repeat(500));
    let svg = svg(&chart);
    assert!(!svg.contains("<script>"));
    let title = &texts(&svg)[0];
    assert!(title.starts_with("<script>alert(1)</script>"), "{title}");
    assert!(title.ends_with('…') && title.chars().count() < 120, "{title}");
    assert!(!title.chars().any(char::is_control), "{title:?}");
    decode(&png(&chart, Size::PHONE), Size::PHONE);
}

// ---- the panel's charts ---------------------------------------------------------------

#[test]
fn collection_is_two_bars_a_month() {
    let chart = collection("2026-11", 18);
    let image = sample("collection.png", &chart, Size::PANEL, 5);
    assert_eq!(bar_runs(&image, palette::CHARGED), 18);
    assert_eq!(bar_runs(&image, palette::RECEIVED), 18);
    let svg = svg(&chart);
    assert_eq!(rects(&svg, palette::CHARGED), 18 + 1);
    assert_eq!(rects(&svg, palette::RECEIVED), 18 + 1);
    let texts = texts(&svg);
    for label in ["Начислено", "Оплачено", "июн", "2026", "0"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t.contains("\u{202f}000")), "grouped rubles on the axis: {texts:?}");
    let empty = CollectionHistory { title: "Начислено и оплачено".into(), months: vec![] };
    assert!(texts_of(&empty).iter().any(|t| t == "Нет данных"));
}

fn texts_of(chart: &impl charts::Chart) -> Vec<String> {
    texts(&svg(chart))
}

#[test]
fn debt_is_one_line_through_the_months_with_figures() {
    let chart = DebtHistory {
        title: "Общий долг".into(),
        months: months("2026-11", 14)
            .into_iter()
            .enumerate()
            .filter(|(i, _)| *i != 5)
            .map(|(i, p)| DebtMonth { period: p, debt: rubles(1_200_000_00 - i as i64 * 95_000_00) })
            .collect(),
    };
    sample("debt.png", &chart, Size::PANEL, 1);
    let svg = svg(&chart);
    let dots = elements(&svg).into_iter().filter(|e| e.is("circle", "fill", &hex(palette::DEBT))).count();
    assert_eq!(dots, 13 + 1, "a dot a month, and one in the legend");
    assert_eq!(lines(&svg, palette::DEBT), [2, 5, 8], "the legend's stroke, then the line broken at the missing month");
    // The debt goes below zero (paid in advance): the axis shows it with a minus sign.
    assert!(texts(&svg).iter().any(|t| t.starts_with('\u{2212}')), "{:?}", texts(&svg));
}

#[test]
fn the_round_is_a_share_by_day_beside_the_month_before() {
    let current = RoundMonth {
        period: period("2026-11"),
        contracts: 420,
        read_by_day: (1..=17).map(|d| (d * 16).min(420)).collect(),
    };
    let previous = RoundMonth {
        period: period("2026-10"),
        contracts: 418,
        // More counts than days in October, and more read than contracts: both bounded.
        read_by_day: (1..=40).map(|d| d * 14).collect(),
    };
    let chart = RoundProgress { current, previous: Some(previous) };
    let image = sample("round.png", &chart, Size::PANEL, 5);
    assert!(image.pixels().any(|p| *p == rgb(palette::ROUND_BEFORE)), "the month before, faded");
    let svg = svg(&chart);
    assert_eq!(lines(&svg, palette::ROUND), [2, 17], "legend stroke, then a point a day so far");
    assert_eq!(lines(&svg, palette::ROUND_BEFORE), [2, 31], "all of October and no more");
    let texts = texts(&svg);
    assert!(texts.iter().any(|t| t == "ноябрь 2026: 65\u{202f}% (272 из 420)"), "{texts:?}");
    assert!(texts.iter().any(|t| t == "октябрь 2026: 100\u{202f}% (418 из 418)"), "{texts:?}");
    for label in ["1", "15", "30", "100\u{202f}%"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    // A round with nothing to read is no round.
    let nothing = RoundProgress { current: RoundMonth { contracts: 0, ..chart.current.clone() }, previous: None };
    assert!(texts_of(&nothing).iter().any(|t| t == "Нет данных"));
}

#[test]
fn sources_stack_in_one_bar_a_month() {
    let chart = SourcesHistory {
        months: months("2026-11", 12)
            .into_iter()
            .enumerate()
            .map(|(i, p)| SourcesMonth {
                period: p,
                counts: vec![
                    (ReadingSource::ControllerWeb, 200 + i as u32 * 5),
                    (ReadingSource::ConsumerBot, 90 + i as u32 * 9),
                    (ReadingSource::ControllerBot, 60),
                    // The panel only in summer; imports only in the first month (going live).
                    (ReadingSource::Panel, if (6..=8).contains(&p.month()) { 15 } else { 0 }),
                    (ReadingSource::Import, if i == 0 { 420 } else { 0 }),
                ],
            })
            .collect(),
    };
    let image = sample("sources.png", &chart, Size::PANEL, 5);
    // The source at the bottom of the stack is cut by the scanline in every bar.
    assert_eq!(bar_runs(&image, palette::source(ReadingSource::ConsumerBot)), 12);
    let svg = svg(&chart);
    for (source, bars) in [
        (ReadingSource::ConsumerBot, 12),
        (ReadingSource::ControllerWeb, 12),
        (ReadingSource::Panel, 3),
        (ReadingSource::Import, 1),
    ] {
        assert_eq!(rects(&svg, palette::source(source)), bars + 1, "{source}: bars and the swatch");
    }
    let texts = texts(&svg);
    assert!(texts.iter().any(|t| t == "Контролёр (веб)"), "{texts:?}");
}

#[test]
fn losses_draw_a_line_per_feeder_with_a_legend() {
    let line = |n: usize, leak: bool| LossLine {
        name: format!("Линия {n}"),
        months: months("2026-11", 12)
            .into_iter()
            .enumerate()
            .map(|(i, p)| (p, 500 + n as i64 * 150 + if leak && i > 6 { 1500 } else { (i as i64 % 3) * 40 }))
            .collect(),
    };
    let mut chart = LossesHistory {
        title: "Электроэнергия: потери в сетях".into(),
        lines: vec![line(1, false), line(2, true), line(3, false)],
    };
    chart.lines[0].months.push((period("2026-11"), -250)); // more sold than supplied, once
    let image = sample("losses.png", &chart, Size::PHONE, 3);
    for colour in &palette::LINES[..3] {
        assert!(image.pixels().any(|p| *p == rgb(*colour)), "{colour:?}");
    }
    let svg = svg(&chart);
    let texts = texts(&svg);
    for label in ["Линия 1", "Линия 2", "Линия 3", "янв", "2026"] {
        assert!(texts.iter().any(|t| t == label), "{label} in {texts:?}");
    }
    assert!(texts.iter().any(|t| t.starts_with('\u{2212}') && t.ends_with('%')), "{texts:?}");

    chart.lines[2].name = "<b>Линия\u{7}3</b>".into();
    let texts = texts_of(&chart);
    assert!(texts.iter().any(|t| t == "<b>Линия 3</b>"), "markup as text, the bell a space: {texts:?}");

    chart.lines = (1..=13).map(|n| line(n, false)).collect();
    let texts = texts_of(&chart);
    assert_eq!(texts[0], "Электроэнергия: потери в сетях, % — 10 линий из 13");
    assert!(texts.iter().any(|t| t == "Линия 10") && !texts.iter().any(|t| t == "Линия 11"));
    sample("losses-13.png", &chart, Size::PHONE, 3);
}

// ---- the renderer ---------------------------------------------------------------------

#[test]
fn both_formats_come_from_one_call_and_sizes_are_bounded() {
    let chart = collection("2026-11", 6);
    let renderer = Renderer::new();
    let png = renderer.render(&chart, Format::Png, Size { width: 640, height: 480 }).unwrap();
    decode(&png, Size { width: 640, height: 480 });
    let svg = String::from_utf8(renderer.render(&chart, Format::Svg, Size::PANEL).unwrap()).unwrap();
    let root = &elements(&svg)[0];
    assert_eq!((root.attr("width"), root.attr("height")), (Some("900"), Some("400")));
    for size in
        [Size { width: 0, height: 600 }, Size { width: 100_000, height: 100_000 }, Size { width: 1000, height: 299 }]
    {
        let err = renderer.render(&chart, Format::Png, size).unwrap_err();
        assert!(matches!(err, ChartError::Size(_)));
        assert!(err.to_string().starts_with("Размер картинки"), "{err}");
    }
    assert_eq!(
        renderer.render(&chart, Format::Svg, Size { width: 100_000, height: 100_000 }).unwrap_err().to_string(),
        "Размер картинки 100000×100000 вне допустимого: от 300 до 4000 точек по каждой стороне."
    );
}
