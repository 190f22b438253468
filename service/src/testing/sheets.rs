//! Workbooks written byte for byte the way a spreadsheet program packs them (an OOXML zip), for
//! the tests of hostile files: a cell at the far corner, a part that inflates to hundreds of MB,
//! a zip whose directory lies about the sizes.

use std::io::{Cursor, Write};

use zip::ZipWriter;
use zip::write::SimpleFileOptions;

/// The sheet part every builder here writes.
pub const SHEET_PART: &str = "xl/worksheets/sheet1.xml";

const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>"#;
const PACKAGE_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>"#;
const WORKBOOK: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>"#;
const WORKBOOK_RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>"#;
/// Two cell styles, as Excel numbers them: 0 general, 1 a date (`ДД.ММ.ГГГГ`, built-in format 14).
pub const DATE_STYLE: u32 = 1;
const STYLES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts><fills count="1"><fill><patternFill patternType="none"/></fill></fills><borders count="1"><border/></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="14" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/></cellXfs></styleSheet>"#;
const SHEET_START: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">"#;

/// An xlsx whose only sheet is `<dimension ref=…>` (when given) and the `<sheetData>` that
/// `rows` writes, streamed through the compressor.
pub fn xlsx(dimension: Option<&str>, rows: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Vec<u8> {
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default();
    for (name, text) in [
        ("[Content_Types].xml", CONTENT_TYPES),
        ("_rels/.rels", PACKAGE_RELS),
        ("xl/workbook.xml", WORKBOOK),
        ("xl/_rels/workbook.xml.rels", WORKBOOK_RELS),
        ("xl/styles.xml", STYLES),
    ] {
        zip.start_file(name, options).expect("zip entry");
        zip.write_all(text.as_bytes()).expect("zip write");
    }
    // The fastest level, so a bomb of hundreds of MB is built in seconds (packed 100:1).
    zip.start_file(SHEET_PART, options.compression_level(Some(1))).expect("zip entry");
    zip.write_all(SHEET_START.as_bytes()).expect("zip write");
    if let Some(dimension) = dimension {
        write!(zip, r#"<dimension ref="{dimension}"/>"#).expect("zip write");
    }
    zip.write_all(b"<sheetData>").expect("zip write");
    rows(&mut zip).expect("sheet rows");
    zip.write_all(b"</sheetData></worksheet>").expect("zip write");
    zip.finish().expect("zip").into_inner()
}

/// Cells as `(reference, text)`, each an inline string in a row of its own, in order.
pub fn xlsx_cells(dimension: Option<&str>, cells: &[(&str, &str)]) -> Vec<u8> {
    xlsx(dimension, |out| {
        for (reference, text) in cells {
            let row: String = reference.chars().filter(char::is_ascii_digit).collect();
            write!(out, r#"<row r="{row}"><c r="{reference}" t="inlineStr"><is><t>{text}</t></is></c></row>"#)?;
        }
        Ok(())
    })
}

/// A 5 KB workbook with a cell at A1 and one at the far corner, XFD1048576, as the sheet's
/// dimension says.
pub fn far_corner() -> Vec<u8> {
    xlsx_cells(Some("A1:XFD1048576"), &[("A1", "Договор"), ("XFD1048576", "1")])
}

/// A workbook whose cell A1 holds `cell_bytes` zeros: a hundredth of that, unpacking to
/// `cell_bytes` and more. Written in chunks, so building it costs no more memory than the file.
pub fn bomb(cell_bytes: usize) -> Vec<u8> {
    xlsx(Some("A1"), |out| {
        out.write_all(br#"<row r="1"><c r="A1" t="inlineStr"><is><t>"#)?;
        let chunk = vec![b'0'; 1 << 16];
        let mut left = cell_bytes;
        while left > 0 {
            let n = left.min(chunk.len());
            out.write_all(&chunk[..n])?;
            left -= n;
        }
        out.write_all(b"</t></is></c></row>")
    })
}

/// The same zip with `part`'s uncompressed size in its local header and in the central directory
/// replaced by `declared`, as a crafted file would lie.
pub fn declaring(mut zip: Vec<u8>, part: &str, declared: u32) -> Vec<u8> {
    let name = part.as_bytes();
    let mut patched = 0;
    for at in 0..zip.len().saturating_sub(46) {
        // Local header: name length at 26, name at 30, uncompressed size at 22.
        // Central directory header: name length at 28, name at 46, uncompressed size at 24.
        let (size_at, name_at, length_at) = match &zip[at..at + 4] {
            b"PK\x03\x04" => (22, 30, 26),
            b"PK\x01\x02" => (24, 46, 28),
            _ => continue,
        };
        let length = u16::from_le_bytes([zip[at + length_at], zip[at + length_at + 1]]) as usize;
        if length == name.len() && zip.get(at + name_at..at + name_at + length) == Some(name) {
            zip[at + size_at..at + size_at + 4].copy_from_slice(&declared.to_le_bytes());
            patched += 1;
        }
    }
    assert_eq!(patched, 2, "{part}: a local and a central header");
    zip
}
