//! The same database gives the same workbook on every write, byte for byte: every cell keeps its type and its
//! number format (dates are dates, money and readings numbers), read back both as a spreadsheet
//! program does (calamine) and from the styles in the xlsx XML.

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{Cursor, Read};

use calamine::{Data, Reader};
use common::{Cooperative, MARCH, PUBLIC_URL, open, period};
use quick_xml::events::{BytesStart, Event};
use reports::{monthly_data, write_monthly};

const WRITES: usize = 10;
/// Rounds of ten writes at once: the race that swapped formats showed in one round of five.
const ROUNDS: usize = 8;

/// A cell as it reads: its type (as calamine sees it) and the number format of its style.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Look {
    kind: &'static str,
    format: String,
}

/// Every non-empty cell of every sheet: (sheet, row, column) → look, and the header rows' texts.
#[derive(Debug, PartialEq)]
struct Cells {
    looks: BTreeMap<(String, u32, u32), Look>,
    headers: BTreeMap<String, (u32, Vec<String>)>,
}

#[tokio::test]
async fn ten_writes_give_the_same_cell_types_and_formats() {
    let coop = Cooperative::build().await;
    let data = monthly_data(&coop.t.ctx, period(MARCH), PUBLIC_URL).await.unwrap();
    // Written ten at once, as four processes did when the formats came out swapped.
    let files: Vec<Vec<u8>> = (0..ROUNDS)
        .flat_map(|_| {
            std::thread::scope(|scope| {
                let writes: Vec<_> = (0..WRITES).map(|_| scope.spawn(|| write_monthly(&data).unwrap())).collect();
                writes.into_iter().map(|w| w.join().unwrap()).collect::<Vec<_>>()
            })
        })
        .collect();

    let first = cells(&files[0]);
    assert_expected_formats(&first);
    let parts = zip_parts(&files[0]);
    for (n, file) in files.iter().enumerate().skip(1) {
        assert_eq!(cells(file), first, "write {n} reads differently from write 0");
        // The creation time is the report's, not the moment of writing: every part is the same.
        for (name, bytes) in zip_parts(file) {
            assert!(parts[&name] == bytes, "write {n}: {name} differs from write 0");
        }
    }
    // Sheet 1 is «Сводка»; the tables follow it.
    for sheet in 2..=6 {
        let xml = std::str::from_utf8(&parts[&format!("xl/worksheets/sheet{sheet}.xml")]).unwrap();
        let height = header_height(xml);
        assert!(height >= 30.0, "sheet {sheet}: the wrapped header row is {height} pt tall");
    }
}

/// The stored height of the header row (row 3), which printing keeps.
fn header_height(sheet: &str) -> f64 {
    let mut reader = quick_xml::Reader::from_str(sheet);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e)
                if e.name().as_ref() == "row" && attribute(&e, "r").as_deref() == Some("3") =>
            {
                return attribute(&e, "ht").map_or(0.0, |ht| ht.parse().unwrap());
            }
            Event::Eof => panic!("no header row"),
            _ => {}
        }
    }
}

/// Dates are dates, money is rubles with kopecks, readings are numbers with up to three decimals,
/// by the column's header.
fn assert_expected_formats(cells: &Cells) {
    let mut checked = 0;
    for (sheet, (header_row, headers)) in &cells.headers {
        for (col, header) in (0..).zip(headers) {
            let expected = if header.starts_with("Дата") {
                Look { kind: "date", format: "dd.mm.yyyy".into() }
            } else if header.contains("₽") {
                Look { kind: "number", format: "#,##0.00".into() }
            } else if header.contains("оказание") || header == "Расход" || header == "Изменение расхода"
            {
                Look { kind: "number", format: "0.###".into() }
            } else {
                continue;
            };
            let column = cells.looks.iter().filter(|((s, row, c), _)| s == sheet && *c == col && row > header_row);
            for ((_, row, _), look) in column {
                assert_eq!(look, &expected, "{sheet}, «{header}», row {}", row + 1);
                checked += 1;
            }
        }
    }
    // The known cooperative fills each of these columns at least once.
    assert!(checked > 40, "only {checked} cells checked");
}

fn cells(file: &[u8]) -> Cells {
    let parts = zip_parts(file);
    let formats = cell_formats(std::str::from_utf8(&parts["xl/styles.xml"]).unwrap());
    let mut book = open(file.to_vec());
    let mut looks = BTreeMap::new();
    let mut headers = BTreeMap::new();
    for (index, sheet) in book.sheet_names().into_iter().enumerate() {
        let styles =
            cell_styles(std::str::from_utf8(&parts[&format!("xl/worksheets/sheet{}.xml", index + 1)]).unwrap());
        let range = book.worksheet_range(&sheet).unwrap();
        let (top, left) = range.start().unwrap();
        for (r, row) in (top..).zip(range.rows()) {
            // A table's header row starts with the plot.
            if row.first() == Some(&Data::String("Участок".into())) {
                headers.insert(sheet.clone(), (r, row.iter().map(ToString::to_string).collect()));
            }
            for (c, data) in (left..).zip(row) {
                let kind = match data {
                    Data::Empty => continue,
                    Data::String(_) => "text",
                    Data::Float(_) | Data::Int(_) => "number",
                    Data::DateTime(dt) if dt.is_datetime() => "date",
                    Data::Bool(_) => "bool",
                    other => panic!("{sheet} R{r}C{c}: unexpected {other:?}"),
                };
                let style = styles.get(&(r, c)).copied().unwrap_or(0);
                looks.insert((sheet.clone(), r, c), Look { kind, format: formats[style].clone() });
            }
        }
    }
    Cells { looks, headers }
}

fn zip_parts(file: &[u8]) -> HashMap<String, Vec<u8>> {
    let mut archive = zip::ZipArchive::new(Cursor::new(file)).unwrap();
    (0..archive.len())
        .map(|i| {
            let mut part = archive.by_index(i).unwrap();
            let mut bytes = Vec::new();
            part.read_to_end(&mut bytes).unwrap();
            (part.name().unwrap().into_owned(), bytes)
        })
        .collect()
}

fn attribute(element: &BytesStart, name: &str) -> Option<String> {
    element.attributes().flatten().find(|a| a.key.as_ref() == name).map(|a| a.value.into_owned())
}

/// The number format code of each cell style (`s` index), from styles.xml's numFmts and cellXfs.
fn cell_formats(styles: &str) -> Vec<String> {
    // Excel's built-in formats, which rust_xlsxwriter writes by id.
    let builtin = [("0", "General"), ("1", "0"), ("2", "0.00"), ("3", "#,##0"), ("4", "#,##0.00")];
    let mut codes: HashMap<String, String> = builtin.map(|(id, code)| (id.into(), code.into())).into();
    let mut formats = Vec::new();
    let mut in_cell_xfs = false;
    let mut reader = quick_xml::Reader::from_str(styles);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) if e.name().as_ref() == "cellXfs" => in_cell_xfs = true,
            Event::End(e) if e.name().as_ref() == "cellXfs" => in_cell_xfs = false,
            Event::Start(e) | Event::Empty(e) => match e.name().as_ref() {
                "numFmt" => {
                    codes.insert(attribute(&e, "numFmtId").unwrap(), attribute(&e, "formatCode").unwrap());
                }
                "xf" if in_cell_xfs => {
                    let id = attribute(&e, "numFmtId").unwrap_or_else(|| "0".into());
                    formats.push(codes.get(&id).cloned().unwrap_or_else(|| format!("builtin {id}")));
                }
                _ => {}
            },
            Event::Eof => return formats,
            _ => {}
        }
    }
}

/// Each cell's style index in a worksheet's XML, by 0-based (row, column).
fn cell_styles(sheet: &str) -> HashMap<(u32, u32), usize> {
    let mut styles = HashMap::new();
    let mut reader = quick_xml::Reader::from_str(sheet);
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == "c" => {
                let reference = attribute(&e, "r").unwrap();
                if let Some(style) = attribute(&e, "s") {
                    styles.insert(cell_position(&reference), style.parse().unwrap());
                }
            }
            Event::Eof => return styles,
            _ => {}
        }
    }
}

/// «B12» → (11, 1).
fn cell_position(reference: &str) -> (u32, u32) {
    let digits = reference.find(|c: char| c.is_ascii_digit()).unwrap();
    let (letters, number) = reference.split_at(digits);
    let col = letters.bytes().fold(0, |col, b| col * 26 + u32::from(b - b'A' + 1)) - 1;
    (number.parse::<u32>().unwrap() - 1, col)
}
