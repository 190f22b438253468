//! The monthly report as the CLI, the scheduler after a restart and the first panel download meet
//! it: `chernomorsk report` as a fresh process each time, at 10 000 plots × 24 months, against
//! openpyxl writing the same cells (same sheets, same columns, as many cells of each kind in
//! each) in the same run. Goal (issue 20.1): ≥ 20× openpyxl, peak memory under 150 MB.
//!
//! `cargo bench -p bot --bench cold_report`. The demo database (about a minute to generate) and
//! openpyxl (from PyPI, in a venv) are kept under the target directory between runs.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use calamine::{Data, Reader, Xlsx, open_workbook};

const PLOTS: u32 = 10_000;
const MONTHS: u32 = 24;
const RUNS: usize = 5;
const GOAL_RATIO: f64 = 20.0;
const GOAL_RSS_MB: f64 = 150.0;
const OPENPYXL: &str = "openpyxl==3.1.5";

/// Writes, for each sheet and column read from stdin, as many cells of the same kind: text,
/// a number with the money format, or a date.
const OPENPYXL_SCRIPT: &str = r##"
import datetime, sys
import openpyxl

book = openpyxl.Workbook()
book.remove(book.active)
sheet, col = None, 0
for line in sys.stdin:
    parts = line.rstrip("\n").split("\t")
    if parts[0] == "sheet":
        sheet, col = book.create_sheet(parts[1]), 0
        continue
    col += 1
    kind, count = parts[1], int(parts[2])
    for row in range(1, count + 1):
        cell = sheet.cell(row=row, column=col)
        if kind == "text":
            cell.value = f"Текст {row}"
        elif kind == "date":
            cell.value = datetime.date(2026, 1, 1) + datetime.timedelta(days=row % 365)
            cell.number_format = "dd.mm.yyyy"
        else:
            cell.value = row * 1.25
            cell.number_format = "#,##0.00"
book.save(sys.argv[1])
"##;

/// One process: wall time, CPU and peak resident memory, as GNU time reports them.
#[derive(Debug, Clone, Copy)]
struct Run {
    wall: f64,
    user: f64,
    system: f64,
    rss_mb: f64,
}

fn main() {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("cold_report");
    std::fs::create_dir_all(&dir).expect("a bench directory");
    let database = demo_database(&dir);
    let python = openpyxl_python(&dir);
    let report = dir.join("report.xlsx");

    let ours: Vec<Run> = (0..RUNS)
        .map(|_| {
            let mut command = chernomorsk(&database);
            command.arg("report").arg("-o").arg(&report);
            timed(&dir, command)
        })
        .collect();
    let shape = shape(&report);
    let cells: usize = shape.iter().flat_map(|(_, columns)| columns.iter().map(|(_, n)| n)).sum();
    let script = dir.join("same_cells.py");
    std::fs::write(&script, OPENPYXL_SCRIPT).expect("the openpyxl script");
    let theirs: Vec<Run> = (0..RUNS)
        .map(|_| {
            let mut command = Command::new(&python);
            command.arg(&script).arg(dir.join("openpyxl.xlsx"));
            timed_with_input(&dir, command, &shape_lines(&shape))
        })
        .collect();

    let (ours, theirs) = (median(ours), median(theirs));
    let ratio = theirs.wall / ours.wall;
    println!("{PLOTS} plots × {MONTHS} months, {cells} cells, median of {RUNS} fresh processes:");
    println!(
        "  chernomorsk report: {:.2} s (user {:.2} s, system {:.2} s), peak {:.0} MB",
        ours.wall, ours.user, ours.system, ours.rss_mb
    );
    println!("  openpyxl ({OPENPYXL}), same cells: {:.2} s, peak {:.0} MB", theirs.wall, theirs.rss_mb);
    let met = |ok: bool| if ok { "met" } else { "not met" };
    println!("  ratio: {ratio:.1}× openpyxl (goal ≥ {GOAL_RATIO}×): {}", met(ratio >= GOAL_RATIO));
    println!("  peak memory {:.0} MB (goal < {GOAL_RSS_MB} MB): {}", ours.rss_mb, met(ours.rss_mb < GOAL_RSS_MB));
}

fn chernomorsk(database: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_chernomorsk"));
    command.env("DATABASE_URL", service::db::sqlite_url(database, "rwc")).env("RUST_LOG", "warn");
    command
}

/// The demo database of this month (the report is of the month before), made once.
fn demo_database(dir: &Path) -> PathBuf {
    let month = chrono::Utc::now().format("%Y-%m");
    // «reported»: the demo's months are closed up to the last full one, as their reports close
    // them; «in-order»: its rows lie in the order they would have arrived. The
    // name changes with what the demo makes, so an older cached file is not reused.
    let database = dir.join(format!("demo-{PLOTS}x{MONTHS}-{month}-reported-in-order.db"));
    if !database.exists() {
        println!("generating {PLOTS} plots × {MONTHS} months (once)…");
        let partial = dir.join("generating.db");
        let wal = dir.join("generating.db-wal");
        for leftover in [&partial, &wal, &dir.join("generating.db-shm")] {
            let _ = std::fs::remove_file(leftover);
        }
        let mut command = chernomorsk(&partial);
        command.args(["demo", "--plots", &PLOTS.to_string(), "--months", &MONTHS.to_string()]);
        let status = command.status().expect("chernomorsk demo");
        assert!(status.success(), "chernomorsk demo failed");
        // What is left in a WAL would not go with the file: the report would miss the data
        // written last (the network, once).
        assert!(!wal.exists(), "chernomorsk demo left its WAL behind");
        std::fs::rename(&partial, &database).expect("the demo database");
    }
    // A cached file from before a migration gets it now, not inside the first timed run.
    let status = chernomorsk(&database).arg("migrate").status().expect("chernomorsk migrate");
    assert!(status.success(), "chernomorsk migrate failed");
    database
}

/// A venv with openpyxl from the package index, made once.
fn openpyxl_python(dir: &Path) -> PathBuf {
    let venv = dir.join("openpyxl-venv");
    let python = venv.join("bin/python");
    if !python.exists() {
        let status = Command::new("python3").arg("-m").arg("venv").arg(&venv).status().expect("python3");
        assert!(status.success(), "python3 -m venv failed");
        let status = Command::new(venv.join("bin/pip")).args(["install", "-q", OPENPYXL]).status().expect("pip");
        assert!(status.success(), "pip install {OPENPYXL} failed");
    }
    python
}

fn timed(dir: &Path, command: Command) -> Run {
    timed_with_input(dir, command, "")
}

/// Runs `command` under GNU time, feeding it `input`.
fn timed_with_input(dir: &Path, command: Command, input: &str) -> Run {
    let times = dir.join("time.txt");
    let mut timed = Command::new("/usr/bin/time");
    timed.arg("-o").arg(&times).args(["-f", "%e %U %S %M"]).arg(command.get_program()).args(command.get_args());
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            timed.env(key, value);
        }
    }
    let mut child = timed.stdin(Stdio::piped()).stdout(Stdio::null()).spawn().expect("/usr/bin/time");
    child.stdin.take().expect("stdin").write_all(input.as_bytes()).expect("the input");
    assert!(child.wait().expect("the process").success(), "{command:?} failed");
    let text = std::fs::read_to_string(&times).expect("GNU time's output");
    let figures: Vec<f64> = text.split_whitespace().map(|f| f.parse().expect("a figure")).collect();
    let [wall, user, system, rss_kb] = figures[..] else { panic!("GNU time wrote {text:?}") };
    Run { wall, user, system, rss_mb: rss_kb / 1024.0 }
}

fn median(mut runs: Vec<Run>) -> Run {
    runs.sort_by(|a, b| a.wall.total_cmp(&b.wall));
    runs[runs.len() / 2]
}

/// Each sheet's columns: the kind of their cells and how many are filled.
type Shape = Vec<(String, Vec<(&'static str, usize)>)>;

fn shape(report: &Path) -> Shape {
    let mut book: Xlsx<_> = open_workbook(report).expect("the report");
    book.sheet_names()
        .into_iter()
        .map(|name| {
            let range = book.worksheet_range(&name).expect("a sheet");
            let mut columns = vec![("text", 0); range.width()];
            for row in range.rows() {
                for (column, cell) in columns.iter_mut().zip(row) {
                    let kind = match cell {
                        Data::Empty => continue,
                        Data::DateTime(_) | Data::DateTimeIso(_) => "date",
                        Data::Float(_) | Data::Int(_) => "number",
                        _ => column.0,
                    };
                    // A column is as its data cells are; its header and title are text anyway.
                    *column = (if kind == "text" { column.0 } else { kind }, column.1 + 1);
                }
            }
            (name, columns)
        })
        .collect()
}

fn shape_lines(shape: &Shape) -> String {
    let mut lines = String::new();
    for (name, columns) in shape {
        lines.push_str(&format!("sheet\t{name}\n"));
        for (kind, count) in columns {
            lines.push_str(&format!("col\t{kind}\t{count}\n"));
        }
    }
    lines
}
